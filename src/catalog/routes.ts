// /v1/catalog (datasets) and /v1/journal (the mutation journal).
import * as v from "valibot";
import { queryInt } from "../http/body.ts";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import type { Catalog } from "./catalog.ts";
import { JournalEntrySchema, type Journal } from "./journal.ts";
import type { Manifest } from "./manifest.ts";

const FieldSchema = v.object({ name: v.string(), type: v.string(), nullable: v.boolean() });
export const DatasetSchema = v.object({
  dataset_id: v.string(),
  name: v.string(),
  version: v.number(),
  fields: v.array(FieldSchema),
  fingerprint: v.string(),
  objects: v.array(v.object({ key: v.string(), rows: v.number(), bytes: v.number() })),
  row_count: v.number(),
  created_at: v.string(),
  updated_at: v.string(),
});

export function datasetJson(m: Manifest): v.InferOutput<typeof DatasetSchema> {
  return {
    dataset_id: m.dataset_id,
    name: m.name,
    version: m.version,
    fields: m.fields,
    fingerprint: m.fingerprint,
    objects: m.objects.map(({ key, rows, bytes }) => ({ key, rows, bytes })),
    row_count: m.row_count,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

const JournalQuery = v.object({
  since: v.optional(queryInt(0, Number.MAX_SAFE_INTEGER), "0"),
  limit: v.optional(queryInt(1, 1000), "100"),
});

export function catalogRoutes(catalog: Catalog, journal: Journal, api: ApiSpec, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "/v1", "catalog", jsonLimit);
  const name = { name: "Dataset name" };

  r.route(
    { method: "get", path: "/catalog/datasets", summary: "List datasets", responses: { 200: { description: "Datasets", schema: v.object({ datasets: v.array(DatasetSchema) }) } } },
    (c) => c.json({ datasets: catalog.list().map(datasetJson) }),
  );
  r.route(
    { method: "get", path: "/catalog/datasets/{name}", summary: "One dataset", pathParams: name, responses: { 200: { description: "Dataset", schema: DatasetSchema } } },
    (c) => c.json(datasetJson(catalog.require(c.req.param("name")!))),
  );
  r.route(
    {
      method: "get",
      path: "/catalog/datasets/{name}/schema",
      summary: "A dataset's schema and fingerprint",
      pathParams: name,
      responses: { 200: { description: "Schema", schema: v.object({ name: v.string(), fingerprint: v.string(), fields: v.array(FieldSchema) }) } },
    },
    (c) => {
      const m = catalog.require(c.req.param("name")!);
      return c.json({ name: m.name, fingerprint: m.fingerprint, fields: m.fields });
    },
  );
  r.route(
    { method: "delete", path: "/catalog/datasets/{name}", summary: "Delete a dataset, its data objects and its SQL view", pathParams: name, responses: { 200: { description: "Deleted", schema: DatasetSchema } } },
    async (c) => c.json(datasetJson(await catalog.delete(c.req.param("name")!))),
  );
  r.route(
    {
      method: "get",
      path: "/journal",
      summary: "Catalog mutations with seq > since, oldest first",
      query: JournalQuery,
      responses: { 200: { description: "Entries", schema: v.object({ entries: v.array(JournalEntrySchema), last_seq: v.number() }) } },
    },
    async (c, { query }) => c.json({ entries: await journal.read(query.since, query.limit), last_seq: journal.lastSeq }),
  );
  return r;
}
