// A real S3-protocol server (s3rver, in its own Node process) on a loopback port, for tests of the
// s3 backend.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunningS3 {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

export async function startS3rver(bucket = "lakehouse-test"): Promise<RunningS3> {
  const directory = mkdtempSync(join(tmpdir(), "s3rver-"));
  const node = Bun.which("node");
  if (!node) throw new Error("the s3 tests need Node.js on PATH to run s3rver");
  const proc = Bun.spawn([node, "--openssl-legacy-provider", join(import.meta.dir, "s3rver-server.cjs"), directory, bucket], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("s3rver exited before listening");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { port } = JSON.parse(text.split("\n")[0]!) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export function s3Options(s3: RunningS3) {
  return {
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: s3.bucket,
    path_style: true,
    access_key_id: "S3RVER",
    secret_access_key: "S3RVER",
    part_size_bytes: 5 * 1024 * 1024,
    conditional_writes: "auto" as const,
  };
}
