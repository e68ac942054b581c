// Finding where a value that did not fit its column sits in the upload, so the 400 can name the
// line: DuckDB's CSV reader names it for its own conversion errors, but a value our exact-cast
// check refuses ("1.5" into a BIGINT column, which DuckDB would round) arrives with only the
// column and the value, and the JSON reader names the line but not the key. Runs only after a
// conversion failed, so a plain streaming pass is fine.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

const QUOTE = 0x22;

/**
 * The physical line (header = 1) of the first CSV record whose field `index` is exactly `value`,
 * or null (the header, when there is one, is skipped). Quoted fields may span lines; a doubled quote inside one is one quote.
 */
export async function findCsvLine(path: string, delimiter: string, index: number, value: string, header: boolean): Promise<number | null> {
  const delim = delimiter.charCodeAt(0);
  let line = 1;
  let recordLine = 1;
  let field = 0;
  let inQuotes = false;
  let afterQuote = false;
  let pendingCr = false;
  let current: number[] = [];
  const wanted = Buffer.from(value, "utf8");
  // The header is not data: a value equal to a column's name is not found there.
  const matches = () => !(header && recordLine === 1) && field === index && current.length === wanted.length && Buffer.from(current).equals(wanted);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    for (const b of chunk) {
      if (pendingCr) {
        pendingCr = false;
        if (b === 0x0a) continue;
      }
      if (inQuotes) {
        if (b === QUOTE) {
          inQuotes = false;
          afterQuote = true;
        } else {
          if (b === 0x0a) line++;
          current.push(b);
        }
        continue;
      }
      if (b === QUOTE) {
        if (afterQuote) current.push(QUOTE);
        inQuotes = true;
        afterQuote = false;
        continue;
      }
      afterQuote = false;
      if (b === delim) {
        if (matches()) return recordLine;
        field++;
        current = [];
        continue;
      }
      if (b === 0x0a || b === 0x0d) {
        if (matches()) return recordLine;
        if (b === 0x0d) pendingCr = true;
        line++;
        recordLine = line;
        field = 0;
        current = [];
        continue;
      }
      current.push(b);
    }
  }
  return matches() ? recordLine : null;
}

/** A JSON value as the text DuckDB shows it: a string bare, anything else as JSON. */
const shown = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/** Whether DuckDB's rendering `value` (bare text, or a JSON literal in the JSON reader's errors) is `v`. */
function same(v: unknown, value: string): boolean {
  if (v === null || v === undefined) return false;
  if (shown(v) === value || JSON.stringify(v) === value) return true;
  return typeof v === "number" && value.trim() !== "" && Number(value) === v;
}

/** Each non-empty NDJSON line parsed, with its 1-based number; unparsable lines are skipped. */
async function* ndjsonLines(path: string): AsyncGenerator<[number, Record<string, unknown>]> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (!text.trim()) continue;
      try {
        const obj = JSON.parse(text);
        if (obj && typeof obj === "object" && !Array.isArray(obj)) yield [n, obj];
      } catch {
        // DuckDB read it, so this does not happen; a line we cannot read is simply not the one.
      }
    }
  } finally {
    lines.close();
  }
}

/** The first NDJSON line whose `key` holds `value`, or null. */
export async function findNdjsonLine(path: string, key: string, value: string): Promise<number | null> {
  for await (const [n, obj] of ndjsonLines(path)) if (same(obj[key], value)) return n;
  return null;
}

/**
 * The first NDJSON line where one of `keys` holds `value`, and that key. The JSON reader names a
 * line, but says itself it is approximate (measured: "line 1" for a value on line 2), and not the key.
 */
export async function findNdjsonKey(path: string, value: string, keys: string[]): Promise<{ line: number; key: string } | null> {
  for await (const [n, obj] of ndjsonLines(path)) {
    const key = keys.find((k) => same(obj[k], value));
    if (key !== undefined) return { line: n, key };
  }
  return null;
}
