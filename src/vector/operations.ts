// The vector module's operations, under /v1/vectors: named HNSW indexes, their items, and
// filtered search. Handlers only map inputs onto the service; the rules live in the domain.
import * as v from "valibot";
import { assertNotModuleIndex } from "./owned.ts";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import { METRICS } from "./params.ts";
import type { VectorService } from "./service.ts";

const MAX_K = 1000;
// Metadata and filters are checked in the domain: valibot's record() would turn an array into an
// object (["x"] → {"0": "x"}) and copy every metadata object of a batch.
const JsonObject = (description: string) => v.pipe(v.unknown(), v.description(description));
const Metadata = JsonObject("a JSON object (≤ 64 KiB, nested ≤ 64 levels) or null");
// Vectors are checked element by element in the domain (with the element's path), not here:
// even v.array(v.unknown()) copies every element, a fifth of the cost of a large batch.
const Vector = v.pipe(
  v.custom<unknown[]>((x) => Array.isArray(x), "expected an array of numbers"),
  v.metadata({ type: "array", items: { type: "number" } }),
  v.description("an array of numbers, as many as the index's dim"),
);

const CreateBody = v.strictObject({
  name: v.pipe(v.string(), v.description("1-128 of [A-Za-z0-9_-]")),
  dim: v.pipe(v.number(), v.integer(), v.minValue(1)),
  metric: v.optional(v.picklist(METRICS)),
  m: v.optional(v.pipe(v.number(), v.integer())),
  ef_construction: v.optional(v.pipe(v.number(), v.integer())),
  ef_search: v.optional(v.pipe(v.number(), v.integer())),
});

const UpsertBody = v.strictObject({
  items: v.array(
    v.strictObject({
      id: v.string(),
      vector: Vector,
      metadata: v.optional(JsonObject("a JSON object (≤ 64 KiB, nested ≤ 64 levels); omitted keeps the item's metadata; null clears it")),
    }),
  ),
});

const SearchBody = v.strictObject({
  vector: Vector,
  k: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K)),
  ef: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096))),
  filter: v.optional(
    v.union([
      JsonObject(
        'MongoDB-style: {"state": "IL", "rate": {"$lte": 22}, "$or": [...]}; operators $eq $ne $in $nin $gt $gte $lt $lte $exists, combinators $and $or $not',
      ),
      v.pipe(v.string(), v.description("the same language as text: state = IL and (shift in (day, swing) or available = true) and rate <= 22")),
    ]),
  ),
  include_vectors: v.optional(v.boolean()),
});

const DeleteBody = v.strictObject({ ids: v.array(v.string()) });

const IndexInfo = named(
  "VectorIndex",
  v.object({
    name: v.string(),
    dim: v.number(),
    metric: v.string(),
    m: v.number(),
    ef_construction: v.number(),
    ef_search: v.number(),
    count: v.number(),
    pending: v.pipe(v.number(), v.description("acknowledged items not yet in the graph (searched exactly meanwhile)")),
    deleted: v.number(),
    capacity: v.number(),
    seq: v.number(),
    indexed_seq: v.number(),
    bytes: v.pipe(v.number(), v.description("snapshot in the object store plus the local log")),
    snapshot_seq: v.number(),
    created_at: v.string(),
  }),
);
const Item = named("VectorItem", v.object({ id: v.string(), vector: v.array(v.number()), metadata: Metadata }));
const Hit = named("VectorHit", v.object({ id: v.string(), score: v.number(), metadata: Metadata, vector: v.optional(v.array(v.number())) }));

const IndexParam = v.object({ name: v.pipe(v.string(), v.description("Index name")) });
const ItemParams = v.object({ ...IndexParam.entries, id: v.pipe(v.string(), v.description("Item id")) });

const TAG = "vectors";
const missing = { not_found: "No such index", unavailable: "The index failed to load at start-up (damaged log or snapshot); drop it or repair its files" };
const batch = { ...missing, too_large: "More items than vector.max_batch_items" };
/** What a write to an index a module owns answers (src/vector/owned.ts). */
const owned = { reserved_prefix: "The index belongs to a module (matrix-*, pathway-*): read and search it here, change it through that module" };

/** `maxBodyBytes` is the vector module's own JSON cap (vector.max_request_bytes): batches of vectors are large. */
export function vectorOperations(svc: VectorService, maxBodyBytes: number): AnyOperation[] {
  return [
    op({
      name: "vector.create_index",
      method: "post",
      path: "/v1/vectors/indexes",
      tag: TAG,
      summary: "Create an index (409 if it exists)",
      body: CreateBody,
      maxBodyBytes,
      result: IndexInfo,
      errors: {
        ...owned,
        validation_failed: "A parameter is missing or out of range; details names it",
        conflict: "An index of that name exists (or failed to load)",
      },
      http: { status: 201, statuses: { 201: "Created" } },
      handler: (input) => {
        assertNotModuleIndex(input.name);
        return svc.createIndex(input);
      },
    }),
    op({
      name: "vector.list_indexes",
      method: "get",
      path: "/v1/vectors/indexes",
      tag: TAG,
      summary: "List indexes",
      result: v.object({ indexes: v.array(IndexInfo) }),
      handler: () => ({ indexes: svc.listIndexes() }),
    }),
    op({
      name: "vector.get_index",
      method: "get",
      path: "/v1/vectors/indexes/{name}",
      tag: TAG,
      summary: "An index: parameters, count, pending, bytes",
      params: IndexParam,
      result: IndexInfo,
      errors: missing,
      handler: ({ name }) => svc.getIndex(name),
    }),
    op({
      name: "vector.drop_index",
      method: "delete",
      path: "/v1/vectors/indexes/{name}",
      tag: TAG,
      summary: "Delete an index and its data",
      description: "Also drops an index that failed to load, with whatever files it left.",
      params: IndexParam,
      errors: { ...owned, not_found: "No such index" },
      http: { status: 204, statuses: { 204: "Deleted" } },
      handler: async ({ name }) => {
        assertNotModuleIndex(name);
        await svc.dropIndex(name);
      },
    }),
    op({
      name: "vector.upsert",
      method: "post",
      path: "/v1/vectors/indexes/{name}/upsert",
      tag: TAG,
      summary: "Insert or replace items; durable when acknowledged",
      description: "The batch is validated whole: one bad item → 400 naming it, nothing written.",
      params: IndexParam,
      body: UpsertBody,
      maxBodyBytes,
      result: v.object({ upserted: v.number(), seq: v.number() }),
      errors: { ...batch, ...owned },
      handler: ({ name, items }) => {
        assertNotModuleIndex(name);
        return svc.upsert(name, items);
      },
    }),
    op({
      name: "vector.search",
      method: "post",
      path: "/v1/vectors/indexes/{name}/search",
      tag: TAG,
      summary: "k nearest items, optionally filtered on metadata",
      description: "score: cosine similarity, inner product, or squared L2 distance (lower is closer). Hits come closest first.",
      params: IndexParam,
      body: SearchBody,
      maxBodyBytes,
      result: v.object({
        hits: v.array(Hit),
        pending_scanned: v.pipe(
          v.number(),
          v.description(
            "acknowledged items not yet in the graph that this search scanned exactly (after the filter); large right after a bulk write, 0 once indexing has caught up",
          ),
        ),
      }),
      errors: {
        ...missing,
        validation_failed:
          "An input failed validation: the vector has the wrong dimension, k is out of range or the filter is invalid; details names the field",
      },
      handler: ({ name, ...req }) => svc.search(name, req),
    }),
    op({
      name: "vector.delete_items",
      method: "post",
      path: "/v1/vectors/indexes/{name}/delete",
      tag: TAG,
      summary: "Delete items by id (ids that do not exist are ignored)",
      params: IndexParam,
      body: DeleteBody,
      maxBodyBytes,
      result: v.object({ deleted: v.number(), seq: v.number() }),
      errors: { ...batch, ...owned },
      handler: ({ name, ids }) => {
        assertNotModuleIndex(name);
        return svc.deleteItems(name, ids);
      },
    }),
    op({
      name: "vector.get_item",
      method: "get",
      path: "/v1/vectors/indexes/{name}/items/{id}",
      tag: TAG,
      summary: "One item (under cosine its vector is unit-length)",
      params: ItemParams,
      result: Item,
      errors: { ...missing, not_found: "No such index or item" },
      handler: ({ name, id }) => svc.getItem(name, id),
    }),
    op({
      name: "vector.delete_item",
      method: "delete",
      path: "/v1/vectors/indexes/{name}/items/{id}",
      tag: TAG,
      summary: "Delete one item (404 if absent)",
      params: ItemParams,
      result: v.object({ seq: v.number() }),
      errors: { ...owned, ...missing, not_found: "No such index or item" },
      handler: ({ name, id }) => {
        assertNotModuleIndex(name);
        return svc.deleteItem(name, id);
      },
    }),
  ];
}
