// Request input: JSON bodies read under a byte cap and a nesting cap and validated with valibot,
// and the query-string integer schema. Validation failures are errors with the field paths in
// `details`.
import type { Context } from "hono";
import * as v from "valibot";
import { LakehouseError, TooLarge, UnsupportedMediaType, ValidationFailed } from "../errors.ts";
import { readStreamCapped } from "../lib/capped-stream.ts";
import { depthMessage, JsonTextDepthScanner, MAX_JSON_DEPTH } from "../lib/json-depth.ts";
import { validate } from "../lib/validate.ts";

/** Reads a request body as bytes, refusing (413) as soon as it passes `limit`. */
function readBodyCapped(req: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new TooLarge(`request body is over the ${limit}-byte limit`, { limit_bytes: limit });
  return readStreamCapped(req.body, Number(req.headers.get("content-length") ?? Number.NaN), limit, tooLarge);
}

// The WHATWG Encoding Standard's labels for UTF-8 (what a client may write in `charset=`).
const UTF8_LABELS = new Set(["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"]);

/**
 * Why a Content-Type cannot carry a JSON body, or null when it can: application/json or
 * application/*+json, with no charset or a UTF-8 one. JSON exchanged between systems is UTF-8
 * (RFC 8259 §8.1); a body declared in another charset would be misread, so it is refused (415)
 * rather than decoded as UTF-8.
 */
export function jsonContentTypeProblem(header: string | undefined): string | null {
  const expected = "expected Content-Type: application/json";
  if (!header) return expected;
  const [type, ...params] = header.split(";");
  const mediaType = type!.trim().toLowerCase();
  if (mediaType !== "application/json" && !(mediaType.startsWith("application/") && mediaType.endsWith("+json"))) return expected;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    if (!UTF8_LABELS.has(charset)) return `JSON bodies must be UTF-8; charset=${JSON.stringify(charset.slice(0, 40))} is not supported`;
  }
  return null;
}

// fatal: a byte sequence that is not UTF-8 is an error, never silently replaced by U+FFFD (which
// would store text the client never sent). decode() without { stream } keeps no state between calls.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * How deeply a JSON request body may nest, checked on its bytes before JSON.parse: under Bun the
 * parser takes any depth but builds one object per level, so a body of brackets is a memory bomb
 * (measured here: 1 MiB of `[` took 88 MiB and 92 ms to parse, 16 MiB took 1.25 GiB and 1.1 s, and
 * vector requests may be 256 MiB), where the scan stops at the first byte past the limit (0.3 ms).
 * The deepest bodies an operation accepts: vector upsert metadata at MAX_JSON_DEPTH under the
 * body, `items` and the item (64 + 3 = 67); a search filter (vector or matrix) at MAX_FILTER_DEPTH
 * 32, i.e. 33 objects with the 32 `$and`/`$or` arrays between them, the innermost field's operator
 * object and its `$in` array (67), under the body (68). Eight levels over MAX_JSON_DEPTH hold
 * both with four to spare, so a value a little too deep still reaches its own check, which names
 * its path (items[0].metadata, filter.$and[0]...); test/http/body-depth.test.ts sends both
 * deepest bodies, built from those constants, so raising either past this limit fails it.
 */
export const MAX_BODY_JSON_DEPTH = MAX_JSON_DEPTH + 8;

function assertBodyDepth(bytes: Uint8Array): void {
  // Structural bytes are ASCII and never occur inside a multi-byte UTF-8 sequence, so the bytes
  // are scanned as they came (≈1.75 GB/s on vector batches: a quarter of JSON.parse's time).
  const scanner = new JsonTextDepthScanner({ limit: MAX_BODY_JSON_DEPTH });
  scanner.push(bytes);
  if (!scanner.found) return;
  const message = depthMessage(MAX_BODY_JSON_DEPTH);
  throw new ValidationFailed(`request body ${message}`, [{ path: "", message }]);
}

export async function readJson<S extends v.GenericSchema>(c: Context, schema: S, limit: number): Promise<v.InferOutput<S>> {
  const problem = jsonContentTypeProblem(c.req.header("content-type"));
  if (problem) throw new UnsupportedMediaType(problem);
  const bytes = await readBodyCapped(c.req.raw, limit);
  assertBodyDepth(bytes);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (err) {
    throw new LakehouseError("malformed_json", "request body is not valid UTF-8", undefined, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LakehouseError("malformed_json", `request body is not valid JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  return validate(schema, parsed, "request body");
}

/**
 * A query-string integer with bounds. Over HTTP it arrives as text; an in-process caller
 * (ops.call, a workflow step) passes a number. Both are checked the same way.
 */
export function queryInt(min: number, max: number) {
  return v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^-?\d+$/, "expected an integer"), v.transform(Number))]),
    v.number(),
    v.integer("expected an integer"),
    v.minValue(min),
    v.maxValue(max),
  );
}
