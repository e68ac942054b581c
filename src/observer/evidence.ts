// SQL truth: a claim checked against the data itself. Each evidence item runs one read-only
// statement through the SQL module's port (its sandbox, memory cap and timeout apply, and the
// observer's shorter review_sql_timeout_ms) and compares the result with `expect`:
//   scalar            the single value of a one-row, one-column result (numbers numerically, ± tolerance)
//   {rows: N}         the row count
//   {values: [...]}   the first column, as a set
//   {min?, max?}      the single value, within the range (inclusive)
// Anything that keeps the comparison from being made — a SQL error or timeout, a missing dataset,
// a result of the wrong shape, more rows than review_max_rows, an expectation of no known form —
// is an "error" outcome, never a pass.
import { isDeepStrictEqual } from "node:util";
import { LakehouseError } from "../errors.ts";
import type { Reason } from "./rules.ts";

export type SqlParam = string | number | boolean | null;

export interface Evidence {
  sql: string;
  params?: SqlParam[];
  expect: unknown;
  tolerance?: number;
}

/** The SQL port as the observer uses it: the SqlPort, plus a per-statement timeout when the provider honours it. */
export interface ReviewSql {
  query(
    sql: string,
    params?: readonly SqlParam[],
    opts?: { maxRows?: number; timeoutMs?: number },
  ): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][]; row_count: number; truncated: boolean }>;
}

type Expectation =
  | { form: "scalar"; value: string | number | boolean | null }
  | { form: "rows"; rows: number }
  | { form: "values"; values: unknown[] }
  | { form: "range"; min?: number; max?: number };

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const only = (o: object, keys: string[]) => Object.keys(o).every((k) => keys.includes(k));

export function parseExpect(expect: unknown): Expectation | string {
  if (expect === null || typeof expect === "string" || typeof expect === "boolean" || isNum(expect)) return { form: "scalar", value: expect };
  if (typeof expect !== "object" || Array.isArray(expect)) return "expect must be a scalar, {rows}, {values} or {min, max}";
  const o = expect as Record<string, unknown>;
  if ("rows" in o) {
    if (!only(o, ["rows"]) || !Number.isSafeInteger(o.rows) || (o.rows as number) < 0) return "{rows: N} needs a non-negative integer and nothing else";
    return { form: "rows", rows: o.rows as number };
  }
  if ("values" in o) {
    if (!only(o, ["values"]) || !Array.isArray(o.values)) return "{values: [...]} needs an array and nothing else";
    return { form: "values", values: o.values };
  }
  if ("min" in o || "max" in o) {
    if (!only(o, ["min", "max"]) || (o.min !== undefined && !isNum(o.min)) || (o.max !== undefined && !isNum(o.max)))
      return "{min, max} needs numbers and nothing else";
    if (isNum(o.min) && isNum(o.max) && o.min > o.max) return "min is greater than max";
    return { form: "range", min: o.min as number | undefined, max: o.max as number | undefined };
  }
  return "expect must be a scalar, {rows}, {values} or {min, max}";
}

/** A result value as a number, when it is one (BIGINTs beyond 2^53 arrive as strings). */
function asNumber(x: unknown): number | null {
  if (isNum(x)) return x;
  if (typeof x === "string" && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(x.trim())) return Number(x);
  return null;
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/i;

function scalarMatches(actual: unknown, expected: string | number | boolean | null, tolerance: number): boolean {
  if (expected === null) return actual === null;
  if (typeof expected === "number") {
    const a = asNumber(actual);
    return a !== null && Math.abs(a - expected) <= tolerance;
  }
  if (typeof expected === "boolean") return actual === expected;
  return actual !== null && actual !== undefined && (typeof actual === "string" ? actual : String(actual)) === expected;
}

export interface EvidenceLimits {
  timeoutMs: number;
  maxRows: number;
}

export async function evaluateEvidence(ev: Evidence, index: number, sql: ReviewSql, limits: EvidenceLimits): Promise<Reason> {
  const check = `sql[${index}]`;
  const base = { check, path: undefined };
  const exp = parseExpect(ev.expect);
  if (typeof exp === "string") return { check, outcome: "error", message: `malformed expectation: ${exp}`, expected: ev.expect };
  const tolerance = ev.tolerance ?? 0;
  const oneValue = exp.form === "scalar" || exp.form === "range";
  let result: Awaited<ReturnType<ReviewSql["query"]>>;
  try {
    result = await sql.query(ev.sql, ev.params ?? [], { maxRows: oneValue ? 2 : limits.maxRows, timeoutMs: limits.timeoutMs });
  } catch (err) {
    const code = err instanceof LakehouseError ? err.code : "internal";
    const message = err instanceof LakehouseError ? err.message : "the SQL check failed unexpectedly";
    return { check, outcome: "error", message: `SQL ${code}: ${message}`, expected: ev.expect };
  }
  const { rows, columns } = result;
  if (oneValue) {
    if (rows.length !== 1 || columns.length !== 1) {
      return {
        check,
        outcome: "error",
        expected: ev.expect,
        message: `expected one row of one column, got ${result.truncated ? "more than 1" : rows.length} row(s) of ${columns.length} column(s)`,
      };
    }
    const actual = rows[0]![0];
    if (exp.form === "scalar") return { ...base, check, expected: exp.value, actual, outcome: scalarMatches(actual, exp.value, tolerance) ? "pass" : "fail" };
    const a = asNumber(actual);
    if (a === null) return { check, expected: ev.expect, actual, outcome: "fail", message: "the value is not a number" };
    const ok = (exp.min === undefined || a >= exp.min - tolerance) && (exp.max === undefined || a <= exp.max + tolerance);
    return { check, expected: ev.expect, actual: a, outcome: ok ? "pass" : "fail" };
  }
  if (result.truncated)
    return { check, outcome: "error", expected: ev.expect, message: `the result has more than ${limits.maxRows} rows (review_max_rows): not compared` };
  if (exp.form === "rows") return { check, expected: exp.rows, actual: result.row_count, outcome: result.row_count === exp.rows ? "pass" : "fail" };
  // values: the first column as a set; numeric columns compared as numbers.
  if (columns.length === 0) return { check, outcome: "error", expected: ev.expect, message: "the result has no column" };
  const numeric = NUMERIC_TYPE.test(columns[0]!.type);
  const norm = (x: unknown) => JSON.stringify(numeric ? (asNumber(x) ?? x) : x);
  const got = new Set(rows.map((r) => norm(r[0])));
  const want = new Set(exp.values.map((x) => norm(x)));
  const missing = [...want].filter((k) => !got.has(k)).map((k) => JSON.parse(k));
  const unexpected = [...got].filter((k) => !want.has(k)).map((k) => JSON.parse(k));
  const ok = missing.length === 0 && unexpected.length === 0;
  return {
    check,
    expected: exp.values,
    actual:
      isDeepStrictEqual(missing, []) && isDeepStrictEqual(unexpected, []) ? exp.values : { missing: missing.slice(0, 20), unexpected: unexpected.slice(0, 20) },
    outcome: ok ? "pass" : "fail",
  };
}
