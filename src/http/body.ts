// Request input: JSON bodies read under a byte cap and validated with valibot, and the query-string
// integer schema. Validation failures are errors with the field paths in `details`.
import type { Context } from "hono";
import * as v from "valibot";
import { LakehouseError, TooLarge, UnsupportedMediaType } from "../errors.ts";
import { readStreamCapped } from "../lib/capped-stream.ts";
import { validate } from "../lib/validate.ts";

/** Reads a request body as bytes, refusing (413) as soon as it passes `limit`. */
function readBodyCapped(req: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new TooLarge(`request body is over the ${limit}-byte limit`, { limit_bytes: limit });
  return readStreamCapped(req.body, Number(req.headers.get("content-length") ?? Number.NaN), limit, tooLarge);
}

function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

export async function readJson<S extends v.GenericSchema>(c: Context, schema: S, limit: number): Promise<v.InferOutput<S>> {
  if (!isJsonContentType(c.req.header("content-type"))) {
    throw new UnsupportedMediaType("expected Content-Type: application/json");
  }
  const bytes = await readBodyCapped(c.req.raw, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
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
