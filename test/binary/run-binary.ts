// Builds the single binary into a temporary directory and runs it copied alone into an empty one,
// for the binary smoke test and its benchmark (scripts/bench/binary.ts imports this: keep it free
// of bun:test).
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { buildBinary } from "../../scripts/build-binary.ts";
import { tempDir } from "../support/tmp.ts";

export interface Built {
  path: string;
  bytes: number;
  ms: number;
}

export async function buildTo(dir: string = tempDir("lh-bin-build-")): Promise<Built> {
  const built = await buildBinary(join(dir, "lakehouse"));
  return { path: built.outfile, bytes: built.bytes, ms: built.ms };
}

export interface Installed {
  /** An otherwise empty directory: the working directory, where ./data appears. */
  dir: string;
  exe: string;
  /** Its own native library cache (LAKEHOUSE_NATIVE_CACHE), empty at first. */
  cache: string;
  home: string;
}

export function installAlone(binary: string): Installed {
  const dir = tempDir("lh-bin-run-");
  const exe = join(dir, "lakehouse");
  copyFileSync(binary, exe);
  chmodSync(exe, 0o755);
  return { dir, exe, cache: join(tempDir("lh-bin-cache-"), "native"), home: tempDir("lh-bin-home-") };
}

/** PATH and a home of its own only: nothing of this machine's Bun or project reaches it. */
export function binaryEnv(inst: Installed, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    HOME: inst.home,
    LAKEHOUSE_NATIVE_CACHE: inst.cache,
    LH_SERVER_BIND: "127.0.0.1:0",
    LH_SERVER_ACCESS_LOG: "false",
    ...extra,
  };
}

export interface Running {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  stdout(): string;
  stderr(): string;
}

function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
}

/** Starts `cmd` in `cwd` and resolves once it logged `until` (by default: every module open). */
export async function startServer(
  cmd: string[],
  cwd: string,
  env: Record<string, string>,
  until: "lakehouse listening" | "lakehouse started" = "lakehouse started",
): Promise<Running> {
  const proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = { text: "" };
  const err = { text: "" };
  collect(proc.stdout, out);
  collect(proc.stderr, err);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const line = out.text.split("\n").find((l) => l.includes(`"msg":"${until}"`));
    if (line) return { proc, url: JSON.parse(line).listen as string, stdout: () => out.text, stderr: () => err.text };
    if (proc.exitCode !== null) break;
    await Bun.sleep(10);
  }
  proc.kill("SIGKILL");
  throw new Error(`the server did not start: ${err.text.slice(0, 2000)}`);
}

export async function runToEnd(cmd: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
