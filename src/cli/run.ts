// The command dispatcher behind src/main.ts, from source and in the single binary alike. Each
// command's code is imported when chosen, so `lakehouse version` does not load the server and a
// helper process loads only its own module.
import { type Parsed, parseArgs, UsageError, type WorkerCommand } from "./args.ts";
import { USAGE } from "./usage.ts";

/** A command that keeps running (the server, a helper process) resolves to "running": do not exit. */
export type Outcome = number | "running";

const WORKERS: Record<WorkerCommand, () => Promise<unknown>> = {
  // Each entry runs when imported and reads its own arguments (the last one is its JSON payload).
  "__sql-worker": () => import("../sql/worker-main.ts"),
  "__convert-worker": () => import("../ingest/convert-worker.ts"),
  "__convert-warm-worker": () => import("../ingest/convert-warm-worker.ts"),
};

async function runParsed(parsed: Parsed): Promise<Outcome> {
  switch (parsed.command) {
    case "help":
      process.stdout.write(USAGE);
      return 0;
    case "version": {
      const { renderVersion, versionReport } = await import("./version.ts");
      const report = await versionReport();
      process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderVersion(report));
      return 0;
    }
    case "check-config": {
      const { checkConfig } = await import("./check-config.ts");
      const out = checkConfig(parsed, process.env);
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
      return out.code;
    }
    case "serve": {
      const { runServe } = await import("./serve.ts");
      await runServe(parsed);
      return "running";
    }
    case "mcp": {
      // The MCP stdio bridge (src/mcp/stdio.ts) parses its own flags.
      // It ends when its client closes stdin; whatever it left open must not keep the process.
      const { runStdio } = await import("../mcp/stdio.ts");
      process.exit(await runStdio(parsed.args));
      break;
    }
    case "worker":
      await WORKERS[parsed.worker]();
      return "running";
  }
}

export async function runCli(argv: string[]): Promise<Outcome> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lakehouse: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  return runParsed(parsed);
}
