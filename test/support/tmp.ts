// Fresh temporary directories. Benchmarks import this on purpose (scripts/bench/http.ts, matrix.ts,
// vector.ts): keep it free of bun:test.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDir(prefix = "lakehouse-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
