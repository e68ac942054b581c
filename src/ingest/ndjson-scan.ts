// Finds the first NDJSON line that nests deeper than MAX_JSON_DEPTH, before DuckDB reads the file:
// its JSON reader recurses and kills its process with SIGSEGV between 2,500 and 3,000 levels
// (measured, DuckDB 1.5), so a deep line must be refused by us, naming the line, not crash there.
import { createReadStream } from "node:fs";
import { depthMessage, JsonTextDepthScanner, MAX_JSON_DEPTH } from "../lib/json-depth.ts";

export interface DepthProblem {
  /** 1-based line of the first value that nests too deeply. */
  line: number;
  message: string;
}

/** The first too-deep line of the NDJSON file at `path`, or null. */
export async function scanNdjsonDepth(path: string, limit = MAX_JSON_DEPTH): Promise<DepthProblem | null> {
  const scanner = new JsonTextDepthScanner({ limit, lines: true });
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      scanner.push(chunk as Buffer);
      if (scanner.found) break;
    }
  } finally {
    stream.destroy();
  }
  const found = scanner.found;
  return found ? { line: found.line, message: `line ${found.line} ${depthMessage(limit)}` } : null;
}
