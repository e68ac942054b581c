// Starts the real server (`bun src/main.ts`) and returns as soon as its port is open ("lakehouse
// listening"), before its modules have opened; test/support/child.ts's startChild waits for
// "lakehouse started", which a start-up that is held up never logs.
import { join } from "node:path";
import type { Child } from "../support/child.ts";

const ROOT = join(import.meta.dir, "..", "..");

export async function startListening(env: Record<string, string>): Promise<Child> {
  const proc = Bun.spawn(["bun", join(ROOT, "src", "main.ts")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", LH_SERVER_BIND: "127.0.0.1:0", LH_SERVER_ACCESS_LOG: "false", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: ROOT,
  });
  const out = { text: "" };
  const err = { text: "" };
  for (const [stream, sink] of [
    [proc.stdout, out],
    [proc.stderr, err],
  ] as const) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
    })();
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const line = out.text.split("\n").find((l) => l.includes('"lakehouse listening"'));
    if (line) return { proc, url: JSON.parse(line).listen as string, stdout: () => out.text, stderr: () => err.text };
    if (proc.exitCode !== null) break;
    await Bun.sleep(20);
  }
  proc.kill("SIGKILL");
  throw new Error(`server did not open its port: ${err.text.slice(0, 2000)}`);
}

/** Resolves once `probe` holds, polling; throws after `ms`. */
export async function until(what: string, probe: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}
