// /v1/vectors: named HNSW indexes, their items, and filtered search.
import * as v from "valibot";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import type { VectorService } from "./service.ts";

const MAX_K = 1000;
// Metadata and filters are checked in the domain: valibot's record() would turn an array into an
// object (["x"] → {"0": "x"}) and copy every metadata object of a batch.
const JsonObject = (description: string) => v.pipe(v.unknown(), v.description(description));
const Metadata = JsonObject("a JSON object (≤ 64 KiB) or null");
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
  metric: v.optional(v.picklist(["cosine", "l2", "ip"])),
  m: v.optional(v.pipe(v.number(), v.integer())),
  ef_construction: v.optional(v.pipe(v.number(), v.integer())),
  ef_search: v.optional(v.pipe(v.number(), v.integer())),
});

const UpsertBody = v.strictObject({
  items: v.array(
    v.strictObject({
      id: v.string(),
      vector: Vector,
      metadata: v.optional(JsonObject("a JSON object (≤ 64 KiB); omitted keeps the item's metadata; null clears it")),
    }),
  ),
});

const SearchBody = v.strictObject({
  vector: Vector,
  k: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K)),
  ef: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096))),
  filter: v.optional(
    v.union([
      JsonObject('MongoDB-style: {"state": "IL", "rate": {"$lte": 22}, "$or": [...]}; operators $eq $ne $in $nin $gt $gte $lt $lte $exists, combinators $and $or $not'),
      v.pipe(v.string(), v.description("the same language as text: state = IL and (shift in (day, swing) or available = true) and rate <= 22")),
    ]),
  ),
  include_vectors: v.optional(v.boolean()),
});

const DeleteBody = v.strictObject({ ids: v.array(v.string()) });

const IndexInfo = v.object({
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
});
const Item = v.object({ id: v.string(), vector: v.array(v.number()), metadata: Metadata });
const Hit = v.object({ id: v.string(), score: v.number(), metadata: Metadata, vector: v.optional(v.array(v.number())) });
const WriteResult = v.object({ seq: v.number() });

export function vectorRoutes(svc: VectorService, api: ApiSpec, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "/v1/vectors", "vectors", jsonLimit);
  const name = { name: "Index name" };

  r.route(
    { method: "post", path: "/indexes", summary: "Create an index (409 if it exists)", body: CreateBody, responses: { 201: { description: "Created", schema: IndexInfo } } },
    async (c, { body }) => c.json(await svc.createIndex(body), 201),
  );
  r.route(
    { method: "get", path: "/indexes", summary: "List indexes", responses: { 200: { description: "Indexes", schema: v.object({ indexes: v.array(IndexInfo) }) } } },
    (c) => c.json({ indexes: svc.listIndexes() }),
  );
  r.route(
    { method: "get", path: "/indexes/{name}", summary: "An index: parameters, count, pending, bytes", pathParams: name, responses: { 200: { description: "Index", schema: IndexInfo } } },
    (c) => c.json(svc.getIndex(c.req.param("name")!)),
  );
  r.route(
    { method: "delete", path: "/indexes/{name}", summary: "Delete an index and its data", pathParams: name, responses: { 204: { description: "Deleted" } } },
    async (c) => {
      await svc.dropIndex(c.req.param("name")!);
      return c.body(null, 204);
    },
  );
  r.route(
    {
      method: "post",
      path: "/indexes/{name}/upsert",
      summary: "Insert or replace items; durable when acknowledged. The batch is validated whole: one bad item → 400 naming it, nothing written.",
      pathParams: name,
      body: UpsertBody,
      responses: { 200: { description: "Written", schema: v.object({ upserted: v.number(), seq: v.number() }) } },
    },
    (c, { body }) => c.json(svc.upsert(c.req.param("name")!, body.items)),
  );
  r.route(
    {
      method: "post",
      path: "/indexes/{name}/search",
      summary: "k nearest items, optionally filtered on metadata. score: cosine similarity, inner product, or squared L2 distance (lower is closer).",
      pathParams: name,
      body: SearchBody,
      responses: { 200: { description: "Hits, closest first", schema: v.object({ hits: v.array(Hit) }) } },
    },
    (c, { body }) => c.json({ hits: svc.search(c.req.param("name")!, body) }),
  );
  r.route(
    {
      method: "post",
      path: "/indexes/{name}/delete",
      summary: "Delete items by id (ids that do not exist are ignored)",
      pathParams: name,
      body: DeleteBody,
      responses: { 200: { description: "Deleted", schema: v.object({ deleted: v.number(), seq: v.number() }) } },
    },
    (c, { body }) => c.json(svc.deleteItems(c.req.param("name")!, body.ids)),
  );
  r.route(
    { method: "get", path: "/indexes/{name}/items/{id}", summary: "One item (under cosine its vector is unit-length)", pathParams: { ...name, id: "Item id" }, responses: { 200: { description: "Item", schema: Item } } },
    (c) => c.json(svc.getItem(c.req.param("name")!, c.req.param("id")!)),
  );
  r.route(
    { method: "delete", path: "/indexes/{name}/items/{id}", summary: "Delete one item (404 if absent)", pathParams: { ...name, id: "Item id" }, responses: { 200: { description: "Deleted", schema: WriteResult } } },
    (c) => {
      const name = c.req.param("name")!;
      const id = c.req.param("id")!;
      svc.getItem(name, id);
      return c.json({ seq: svc.deleteItems(name, [id]).seq });
    },
  );
  return r;
}
