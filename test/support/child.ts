// Runs the real server (`bun src/main.ts`) as a child process, for shutdown and crash tests; talk
// to it with ./http.ts (its `url` is a target). Benchmarks import this on purpose
// (scripts/bench/matrix.ts, vector.ts): keep it free of bun:test.
import { join } from "node:path";
import type { Subprocess } from "bun";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

export interface Child {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  /** Everything the child printed on stdout so far (JSON lines). */
  stdout(): string;
  stderr(): string;
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

const baseEnv = (env: Record<string, string>) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  LH_SERVER_BIND: "127.0.0.1:0",
  LH_SERVER_ACCESS_LOG: "false",
  ...env,
});

function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
}

/** The server as its own process, from the project root, with piped output. */
function spawnServer(env: Record<string, string>, args: string[]) {
  return Bun.spawn(["bun", MAIN, ...args], { env: baseEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: join(import.meta.dir, "..", "..") });
}

/** Starts the server and resolves once it logged its startup line. */
export async function startChild(env: Record<string, string>, args: string[] = []): Promise<Child> {
  const proc = spawnServer(env, args);
  const out = { text: "" };
  const err = { text: "" };
  collect(proc.stdout, out);
  collect(proc.stderr, err);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const line = out.text.split("\n").find((l) => l.includes('"lakehouse started"'));
    if (line) return { proc, url: JSON.parse(line).listen as string, stdout: () => out.text, stderr: () => err.text };
    if (proc.exitCode !== null) break;
    await Bun.sleep(20);
  }
  proc.kill("SIGKILL");
  throw new Error(`server did not start: ${err.text.slice(0, 2000)}`);
}

/** Runs the server expecting it to exit by itself (e.g. a config error). */
export async function runToExit(env: Record<string, string>, args: string[] = []): Promise<Exited> {
  const proc = spawnServer(env, args);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
