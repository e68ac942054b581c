// The SQL that defines a dataset's view. Names were validated by the catalog (letters, digits, _)
// and are still quoted; paths are quoted as string literals.
import type { Field } from "../catalog/schema.ts";
import { DATASET_NAME } from "../catalog/names.ts";
import { quoteIdent, quoteLiteral } from "../lib/sql-quote.ts";

export { quoteIdent, quoteLiteral };

function assertViewName(name: string): void {
  if (!DATASET_NAME.test(name)) throw new Error(`refusing to create a view for invalid name ${JSON.stringify(name)}`);
}

/** Column types as DuckDB prints them; anything else (a tampered manifest) is read as VARCHAR. */
function safeType(type: string): string {
  return /^[A-Za-z][A-Za-z0-9_ (),[\]]*$/.test(type) ? type : "VARCHAR";
}

/** A view over the dataset's Parquet files; with no files, an empty relation of the right shape. */
export function createViewSql(name: string, fields: readonly Field[], paths: readonly string[]): string {
  assertViewName(name);
  if (paths.length > 0) {
    return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet([${paths.map(quoteLiteral).join(", ")}])`;
  }
  const cols = fields.length > 0 ? fields.map((f) => `CAST(NULL AS ${safeType(f.type)}) AS ${quoteIdent(f.name)}`).join(", ") : "NULL AS empty";
  return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT ${cols} WHERE false`;
}

export function dropViewSql(name: string): string {
  assertViewName(name);
  return `DROP VIEW IF EXISTS ${quoteIdent(name)}`;
}
