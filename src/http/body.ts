// Request input: JSON bodies read under a byte cap and validated with valibot, query strings
// validated the same way. Failures are errors with the field paths in `details`.
import type { Context } from "hono";
import * as v from "valibot";
import { LakehouseError, TooLarge, UnsupportedMediaType } from "../errors.ts";
import { validate } from "../lib/validate.ts";

export { issuesToDetails, validate } from "../lib/validate.ts";

/** Reads a request body as bytes, refusing (413) as soon as it passes `limit`. */
export async function readBodyCapped(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) throw new TooLarge(`request body is over the ${limit}-byte limit`, { limit_bytes: limit });
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.byteLength;
    if (total > limit) throw new TooLarge(`request body is over the ${limit}-byte limit`, { limit_bytes: limit });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function isJsonContentType(header: string | undefined): boolean {
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
    throw new LakehouseError("malformed_json", `request body is not valid JSON: ${(err as Error).message}`);
  }
  return validate(schema, parsed, "request body");
}

export function readQuery<S extends v.GenericSchema>(c: Context, schema: S): v.InferOutput<S> {
  return validate(schema, c.req.query(), "query string");
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

