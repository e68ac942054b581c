// The building blocks of config schemas, shared by every section (src/config/schema.ts and each
// module's config.ts), so "a positive integer" or "a DuckDB size" is checked the same way, with
// the same message, whichever key it is.
import * as v from "valibot";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
export const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));

/** An integer from `min` to `max`, both included. */
export const intBetween = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

/** A number from `min` to `max`, both included. */
export const numberBetween = (min: number, max: number) => v.pipe(v.number(), v.minValue(min), v.maxValue(max));

/** A size as DuckDB's memory_limit takes it ("1GB", "512MiB"); DuckDB itself parses it. */
export const duckdbSize = v.pipe(v.string(), v.regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as "1GB"'));
