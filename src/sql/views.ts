// The SQL that defines a dataset's view. Names were validated by the catalog (letters, digits, _)
// and are still quoted; paths are quoted as string literals.
import type { Field } from "../catalog/schema.ts";
import { DATASET_NAME } from "../catalog/names.ts";
import { quoteIdent, quoteLiteral } from "../lib/sql-quote.ts";

export { quoteIdent, quoteLiteral };

/** A dataset's name, or "name@version" for a retained earlier version (time travel). */
function assertViewName(name: string): void {
  const at = name.lastIndexOf("@");
  const ok = at < 0 ? DATASET_NAME.test(name) : DATASET_NAME.test(name.slice(0, at)) && /^[1-9]\d{0,15}$/.test(name.slice(at + 1));
  if (!ok) throw new Error(`refusing to create a view for invalid name ${JSON.stringify(name)}`);
}

/** The view time travel reads version `version` of `name` through: select ... from "workers@3". */
export function versionViewName(name: string, version: number): string {
  return `${name}@${version}`;
}

/** Column types as DuckDB prints them; anything else (a tampered manifest) is read as VARCHAR. */
function safeType(type: string): string {
  return /^[A-Za-z][A-Za-z0-9_ (),[\]]*$/.test(type) ? type : "VARCHAR";
}

/**
 * A view over the dataset's Parquet files; with no files, an empty relation of the right shape.
 * `byName`: the files do not all have the dataset's schema (some were written before an evolve),
 * so they are read by column name — a column a file lacks reads as NULL — and every column is cast
 * to the dataset's type (only widenings are ever committed, so the casts cannot fail).
 */
export function createViewSql(name: string, fields: readonly Field[], paths: readonly string[], byName = false): string {
  assertViewName(name);
  if (paths.length > 0) {
    const files = `[${paths.map(quoteLiteral).join(", ")}]`;
    if (!byName) return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet(${files})`;
    const cols = fields.map((f) => `CAST(${quoteIdent(f.name)} AS ${safeType(f.type)}) AS ${quoteIdent(f.name)}`).join(", ");
    return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT ${cols} FROM read_parquet(${files}, union_by_name = true)`;
  }
  const cols = fields.length > 0 ? fields.map((f) => `CAST(NULL AS ${safeType(f.type)}) AS ${quoteIdent(f.name)}`).join(", ") : "NULL AS empty";
  return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT ${cols} WHERE false`;
}

export function dropViewSql(name: string): string {
  assertViewName(name);
  return `DROP VIEW IF EXISTS ${quoteIdent(name)}`;
}
