// Rows of a dataset for other modules (the matrix builds corpora from them): the shape comes from
// the catalog, the rows from SQL, a page at a time in id order.
import type { Catalog } from "../catalog/catalog.ts";
import { NotFound, Unavailable } from "../errors.ts";
import { quoteIdent } from "../lib/sql-quote.ts";
import type { IdValue, RowSource, SqlPort } from "../ports.ts";

export function sqlRowSource(catalog: Pick<Catalog, "get">, sql: SqlPort): RowSource {
  return {
    async describe(dataset) {
      const m = catalog.get(dataset);
      if (!m) throw new NotFound(`dataset "${dataset}" not found`);
      return { columns: m.fields.map((f) => f.name), rows: m.row_count, version: m.version };
    },
    async page(dataset, columns, idColumn, after, limit) {
      const id = quoteIdent(idColumn);
      const from = quoteIdent(dataset);
      const lower = after === null ? `${id} IS NOT NULL` : `${id} > ?`;
      const lowerParams = after === null ? [] : [after];
      // The page's last id first, from the id column alone; the page itself is then a range on
      // both sides, which Parquet row-group statistics can prune, instead of a top-N over every
      // remaining row (quadratic over a whole build).
      const bound = await sql.query(`SELECT max(${id}) FROM (SELECT ${id} FROM ${from} WHERE ${lower} ORDER BY ${id} LIMIT ${limit})`, lowerParams, {
        maxRows: 1,
      });
      const upper = bound.rows[0]?.[0];
      if (upper === null || upper === undefined) return [];
      const res = await sql.query(`SELECT ${columns.map(quoteIdent).join(", ")} FROM ${from} WHERE ${lower} AND ${id} <= ? ORDER BY ${id}`, [
        ...lowerParams,
        upper as IdValue,
      ]);
      if (res.truncated) {
        throw new Unavailable(`a page of dataset "${dataset}" is over sql.max_rows or sql.max_response_bytes; lower matrix.read_page or raise them`, {
          dataset,
          rows: res.row_count,
        });
      }
      return res.rows.map((values) => {
        const row: Record<string, unknown> = {};
        for (const [i, c] of res.columns.entries()) row[c.name] = values[i];
        return row;
      });
    },
  };
}
