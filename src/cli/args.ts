// The command line: `lakehouse [command] [options]`. Parsed here without a library: four commands
// with a handful of flags each, and the helper commands (`__sql-worker`, ...) whose arguments
// belong to the helper. An unknown command or flag is a UsageError (usage on stderr, exit 2).

export class UsageError extends Error {}

export type Command = "serve" | "check-config" | "version" | "help" | "mcp";

/** Commands that start a helper process of the server (src/lib/worker-process.ts); not for users. */
export const WORKER_COMMANDS = ["__sql-worker", "__convert-worker", "__convert-warm-worker"] as const;
export type WorkerCommand = (typeof WORKER_COMMANDS)[number];

export type Parsed =
  | { command: "serve" | "check-config"; config?: string; secrets?: string }
  | { command: "version"; json: boolean }
  | { command: "help" }
  /** Everything after `mcp` belongs to the MCP bridge, which parses its own flags. */
  | { command: "mcp"; args: string[] }
  | { command: "worker"; worker: WorkerCommand; args: string[] };

const VALUE_FLAGS: Record<"serve" | "check-config", string[]> = {
  serve: ["--config", "--secrets"],
  "check-config": ["--config", "--secrets"],
};

const isHelp = (a: string) => a === "--help" || a === "-h";

/** `--flag value` or `--flag=value`; the value must not look like another flag. */
function takeValue(argv: string[], i: number, flag: string, inline: string | undefined): [string, number] {
  if (inline !== undefined) {
    if (inline === "") throw new UsageError(`${flag} needs a path`);
    return [inline, i];
  }
  const value = argv[i + 1];
  if (value === undefined || value.startsWith("-")) throw new UsageError(`${flag} needs a path`);
  return [value, i + 1];
}

function parseConfigFlags(command: "serve" | "check-config", argv: string[]): Parsed {
  const out: { command: "serve" | "check-config"; config?: string; secrets?: string } = { command };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (isHelp(arg)) return { command: "help" };
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (!VALUE_FLAGS[command].includes(flag)) {
      throw new UsageError(arg.startsWith("-") ? `unknown option ${flag} for ${command}` : `unexpected argument "${arg}" for ${command}`);
    }
    const [value, next] = takeValue(argv, i, flag, inline);
    i = next;
    if (flag === "--config") out.config = value;
    else out.secrets = value;
  }
  return out;
}

export function parseArgs(argv: string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined || first.startsWith("-")) {
    if (first !== undefined && isHelp(first)) return { command: "help" };
    return parseConfigFlags("serve", argv);
  }
  if ((WORKER_COMMANDS as readonly string[]).includes(first)) return { command: "worker", worker: first as WorkerCommand, args: rest };
  switch (first) {
    case "serve":
    case "check-config":
      return parseConfigFlags(first, rest);
    case "version": {
      let json = false;
      for (const arg of rest) {
        if (isHelp(arg)) return { command: "help" };
        if (arg === "--json") json = true;
        else throw new UsageError(arg.startsWith("-") ? `unknown option ${arg} for version` : `unexpected argument "${arg}" for version`);
      }
      return { command: "version", json };
    }
    case "help":
      return { command: "help" };
    case "mcp":
      return { command: "mcp", args: rest };
    default:
      throw new UsageError(`unknown command "${first}"`);
  }
}
