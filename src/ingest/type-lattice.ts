// Which column types an upload may widen a dataset's column to under schema=evolve, and which
// casts lose nothing. Types are DuckDB's own spelling, as DESCRIBE reports them (the manifest keeps
// exactly that). The lattice is deliberately small:
//   integers by width (TINYINT < SMALLINT < INTEGER < BIGINT; an unsigned type joins the signed
//   type twice its width) → DOUBLE; FLOAT, DECIMAL → DOUBLE; DATE → TIMESTAMP; anything → VARCHAR.
// HUGEINT/UHUGEINT are left out on purpose: Parquet stores them as DOUBLE, so a column widened to
// one would read back as another type than the manifest records.

const INT_BITS: Record<string, { bits: number; signed: boolean }> = {
  TINYINT: { bits: 8, signed: true },
  SMALLINT: { bits: 16, signed: true },
  INTEGER: { bits: 32, signed: true },
  BIGINT: { bits: 64, signed: true },
  UTINYINT: { bits: 8, signed: false },
  USMALLINT: { bits: 16, signed: false },
  UINTEGER: { bits: 32, signed: false },
  UBIGINT: { bits: 64, signed: false },
};

const SIGNED_BY_BITS: Record<number, string> = { 8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT" };

export const isInteger = (t: string): boolean => t in INT_BITS;
export const isDecimal = (t: string): boolean => /^DECIMAL\(\d+,\s*\d+\)$/.test(t);
const isFloat = (t: string): boolean => t === "FLOAT" || t === "DOUBLE";
const isNumeric = (t: string): boolean => isInteger(t) || isDecimal(t) || isFloat(t);

/** Types that stand for "no information" (an all-null JSON key): they join as the other side. */
const isUnknown = (t: string): boolean => t === "NULL" || t === '"NULL"';

/** The narrowest type both `a` and `b` values fit in without loss (VARCHAR at worst). */
export function joinTypes(a: string, b: string): string {
  if (a === b) return a;
  if (isUnknown(a)) return b;
  if (isUnknown(b)) return a;
  if (isInteger(a) && isInteger(b)) {
    const x = INT_BITS[a]!;
    const y = INT_BITS[b]!;
    if (x.signed === y.signed) return x.bits >= y.bits ? a : b;
    const [s, u] = x.signed ? [x, y] : [y, x];
    const bits = Math.max(s.bits, u.bits * 2);
    return SIGNED_BY_BITS[bits] ?? "DOUBLE";
  }
  if (isNumeric(a) && isNumeric(b)) return "DOUBLE";
  if ((a === "DATE" && b === "TIMESTAMP") || (a === "TIMESTAMP" && b === "DATE")) return "TIMESTAMP";
  return "VARCHAR";
}

/** True when every `from` value converts to `to` without loss (to is from's join with it). */
export const widensTo = (from: string, to: string): boolean => joinTypes(from, to) === to;

/**
 * How DuckDB's readers may be given a type: CSV's `types` and the JSON reader cast these exactly
 * (measured: a CSV "abc" into DOUBLE fails naming the line). Integer and DECIMAL targets are not
 * among them: both readers round "1.5" into a BIGINT as 2 and the JSON reader reads `true` as 1,
 * so those columns are read as text and cast in SQL with a check that nothing was lost.
 */
export function readerCastsExactly(type: string, format: "csv" | "ndjson"): boolean {
  if (isInteger(type) || isDecimal(type)) return false;
  if (format === "ndjson") return true;
  return ["VARCHAR", "DOUBLE", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP", "TIME"].includes(type);
}
