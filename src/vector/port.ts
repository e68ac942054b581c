// The vector module's side of VectorPort (src/ports.ts): what other modules (the matrix) may do
// with indexes, over the service, without knowing its types. Absence is a value here (hasIndex,
// get, metadata), and metadata is always an object, never null.
import { NotFound } from "../errors.ts";
import type { VectorPort } from "../ports.ts";
import type { VectorService } from "./service.ts";

export function vectorPort(svc: VectorService): VectorPort {
  const searchCounted: VectorPort["searchCounted"] = async (name, vector, k, filter) => {
    const { hits, pending_scanned } = await svc.search(name, { vector, k, filter });
    return { hits: hits.map((h) => ({ id: h.id, score: h.score, metadata: h.metadata ?? {} })), pending_scanned };
  };
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
    search: async (name, vector, k, filter) => (await searchCounted(name, vector, k, filter)).hits,
    searchCounted,
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
    filterAccept: (name, filter) => svc.filterAccept(name, filter),
    filterIds: (name, filter) => svc.filterIds(name, filter),
    stats(name) {
      const info = svc.getIndex(name);
      return { count: info.count, pending: info.pending, dim: info.dim };
    },
  };
}
