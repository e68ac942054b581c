// Binds the matrix ports to this process's modules: dataset rows through the catalog and SQL,
// corpora in vector indexes, embeddings from the embed module's Embedder (with its cache).
import type { Catalog } from "../catalog/catalog.ts";
import type { Embedder } from "../embed/embedder.ts";
import { NotFound, Unavailable } from "../errors.ts";
import type { SqlModule } from "../sql/module.ts";
import type { VectorService } from "../vector/service.ts";
import type { EmbedPort, IdValue, RowSource, VectorPort } from "./ports.ts";
import type { Row } from "./rows.ts";

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function sqlRowSource(catalog: Catalog, sql: Pick<SqlModule, "query">): RowSource {
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
      const bound = await sql.query(`SELECT max(${id}) FROM (SELECT ${id} FROM ${from} WHERE ${lower} ORDER BY ${id} LIMIT ${limit})`, lowerParams, { maxRows: 1 });
      const upper = bound.rows[0]?.[0];
      if (upper === null || upper === undefined) return [];
      const res = await sql.query(`SELECT ${columns.map(quoteIdent).join(", ")} FROM ${from} WHERE ${lower} AND ${id} <= ? ORDER BY ${id}`, [...lowerParams, upper as IdValue]);
      if (res.truncated) {
        throw new Unavailable(`a page of dataset "${dataset}" is over sql.max_rows; lower matrix.read_page or raise sql.max_rows`, { dataset, rows: res.row_count });
      }
      return res.rows.map((values) => {
        const row: Row = {};
        res.columns.forEach((c, i) => (row[c.name] = values[i]));
        return row;
      });
    },
  };
}

export function vectorPort(svc: VectorService): VectorPort {
  return {
    hasIndex(name) {
      try {
        svc.getIndex(name);
        return true;
      } catch (err) {
        if (err instanceof NotFound) return false;
        throw err;
      }
    },
    async createIndex(name, dim) {
      await svc.createIndex({ name, dim, metric: "cosine" });
    },
    dropIndex: (name) => svc.dropIndex(name),
    async upsert(name, items) {
      svc.upsert(
        name,
        items.map((i) => ({ id: i.id, vector: i.vector as number[], metadata: i.metadata })),
      );
    },
    async remove(name, ids) {
      svc.deleteItems(name, ids);
    },
    async search(name, vector, k, filter) {
      return svc.search(name, { vector, k, filter }).map((h) => ({ id: h.id, score: h.score, metadata: h.metadata ?? {} }));
    },
    async get(name, id) {
      try {
        const item = svc.getItem(name, id);
        return { id: item.id, vector: item.vector, metadata: item.metadata ?? {} };
      } catch (err) {
        if (err instanceof NotFound) return undefined;
        throw err;
      }
    },
    metadata(name, id) {
      const m = svc.getMetadata(name, id);
      return m === undefined ? undefined : (m ?? {});
    },
    stats(name) {
      const info = svc.getIndex(name);
      return { count: info.count, pending: info.pending, dim: info.dim };
    },
  };
}

export function embedPort(embedder: Embedder): EmbedPort {
  return {
    maxBatch: embedder.maxBatch,
    defaultModel: embedder.provider.defaultModel,
    embed: (texts, model) => embedder.embed(texts, model),
  };
}
