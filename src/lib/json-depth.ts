// How deeply JSON the lakehouse keeps may nest: vector metadata, NDJSON rows, and the payloads of the
// modules to come (observer records, pathway traces). JSON.parse under Bun reads any depth
// (1,000,000 levels measured), but nearly everything after it recurses: JSON.stringify throws
// RangeError past ≈40,000 levels on the main thread (a 500 from a vector upsert with 100,000), and
// DuckDB's read_json segfaults its process between 2,500 and 3,000 levels. 64 is far above any real
// record and far below every one of those, so a value that passes is safe to stringify, store and
// query. Both checks here are loops, never recursion, so checking cannot overflow either.
import { ValidationFailed } from "../errors.ts";

/** The deepest nesting accepted: `{}` and `[]` are one level, `{"a": []}` two; a scalar is none. */
export const MAX_JSON_DEPTH = 64;

export function depthMessage(limit = MAX_JSON_DEPTH): string {
  return `nests deeper than ${limit} levels of objects and arrays`;
}

/**
 * Whether a parsed `value` nests deeper than `limit` levels. It stops at the first container past
 * the limit; a cyclic in-process value counts as too deep instead of looping.
 */
export function exceedsJsonDepth(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: unknown[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const node = stack.pop();
    const depth = depths.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth + 1 > limit) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === "object") {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** Throws validation_failed naming `path` when `value` nests deeper than `limit`. */
export function assertJsonDepth(value: unknown, path: string, limit = MAX_JSON_DEPTH): void {
  if (!exceedsJsonDepth(value, limit)) return;
  const message = depthMessage(limit);
  throw new ValidationFailed(`${path}: ${message}`, [{ path, message }]);
}

/**
 * Byte classes for the text scanner: one table lookup and one compare for the bytes that do not
 * matter, which are nearly all of them. Measured on a 257 MiB NDJSON file read from disk: ≈240 ms
 * (≈1.1 GB/s; ≈500 ms with plain comparisons), where DuckDB's conversion of it takes ≈1.8 s.
 */
const OTHER = 0;
const NEWLINE = 1;
const QUOTE = 2;
const BACKSLASH = 3;
const OPEN = 4;
const CLOSE = 5;
const CLASS = new Uint8Array(256);
CLASS[0x0a] = NEWLINE;
CLASS[0x22] = QUOTE;
CLASS[0x5c] = BACKSLASH;
CLASS[0x7b] = OPEN;
CLASS[0x5b] = OPEN;
CLASS[0x7d] = CLOSE;
CLASS[0x5d] = CLOSE;

/**
 * Finds where JSON text, fed in chunks of UTF-8, first nests deeper than `limit`, without parsing
 * it: for text no parser should see (DuckDB's recursive reader), or before JSON.parse builds one
 * object per level (≈110 bytes each: a 64 MiB body of brackets took 3.5 GiB and 8.6 s to parse).
 * With `lines`, each line is its own value (NDJSON): a newline ends it, whatever state a malformed
 * line left behind. Only nesting is judged; anything else malformed is the parser's to name.
 */
export class JsonTextDepthScanner {
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private problem: { line: number } | null = null;

  constructor(private readonly opts: { limit?: number; lines?: boolean } = {}) {}

  /** The 1-based line where nesting first passed the limit, or null so far. */
  get found(): { line: number } | null {
    return this.problem;
  }

  push(chunk: Uint8Array): void {
    if (this.problem) return;
    const limit = this.opts.limit ?? MAX_JSON_DEPTH;
    const lines = this.opts.lines ?? false;
    let { line, depth, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = CLASS[chunk[i]!]!;
      if (c === OTHER) {
        escaped = false;
        continue;
      }
      if (c === NEWLINE) {
        line++;
        escaped = false;
        if (lines) {
          depth = 0;
          inString = false;
        }
      } else if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN) {
        if (++depth > limit) {
          this.problem = { line };
          return;
        }
      } else if (c === CLOSE && depth > 0) depth--;
    }
    this.line = line;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }
}
