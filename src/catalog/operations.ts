// The catalog's operations: datasets (list, get, schema, delete) and the mutation journal.
import * as v from "valibot";
import { queryInt } from "../http/body.ts";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { Catalog } from "./catalog.ts";
import { type Journal, JournalEntrySchema } from "./journal.ts";
import type { Manifest } from "./manifest.ts";

const FieldSchema = named("Field", v.object({ name: v.string(), type: v.string(), nullable: v.boolean() }));
const DatasetSchema = named(
  "Dataset",
  v.object({
    dataset_id: v.string(),
    name: v.string(),
    version: v.number(),
    fields: v.array(FieldSchema),
    fingerprint: v.string(),
    objects: v.array(v.object({ key: v.string(), rows: v.number(), bytes: v.number() })),
    row_count: v.number(),
    created_at: v.string(),
    updated_at: v.string(),
  }),
);
type DatasetJson = v.InferOutput<typeof DatasetSchema>;

function datasetJson(m: Manifest): DatasetJson {
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

const NameParam = v.object({ name: v.pipe(v.string(), v.description("Dataset name")) });
const JournalQuery = v.object({
  since: v.optional(queryInt(0, Number.MAX_SAFE_INTEGER), 0),
  limit: v.optional(queryInt(1, 1000), 100),
});
const unavailable = { unavailable: "No version of the dataset's manifest could be read at start-up (/health names them): delete it or restore them" };
const notFound = { not_found: "No such dataset", ...unavailable };

export function catalogOperations(catalog: Catalog, journal: Journal): AnyOperation[] {
  return [
    op({
      name: "catalog.list",
      method: "get",
      path: "/v1/catalog/datasets",
      tag: "catalog",
      summary: "List datasets",
      result: v.object({ datasets: v.array(DatasetSchema) }),
      handler: () => ({ datasets: catalog.list().map(datasetJson) }),
    }),
    op({
      name: "catalog.get",
      method: "get",
      path: "/v1/catalog/datasets/{name}",
      tag: "catalog",
      summary: "One dataset",
      params: NameParam,
      result: DatasetSchema,
      errors: notFound,
      handler: ({ name }) => datasetJson(catalog.require(name)),
    }),
    op({
      name: "catalog.schema",
      method: "get",
      path: "/v1/catalog/datasets/{name}/schema",
      tag: "catalog",
      summary: "A dataset's schema and fingerprint",
      params: NameParam,
      result: named("DatasetSchema", v.object({ name: v.string(), fingerprint: v.string(), fields: v.array(FieldSchema) })),
      errors: notFound,
      handler: ({ name }) => {
        const m = catalog.require(name);
        return { name: m.name, fingerprint: m.fingerprint, fields: m.fields };
      },
    }),
    op({
      name: "catalog.delete",
      method: "delete",
      path: "/v1/catalog/datasets/{name}",
      tag: "catalog",
      summary: "Delete a dataset, its data objects and its SQL view",
      params: NameParam,
      result: DatasetSchema,
      errors: {
        ...notFound,
        conflict: "Another writer changed the dataset meanwhile; retry",
        unavailable: "The catalog journal has used its last sequence number (/health: journal_full), so catalog writes are refused",
      },
      handler: async ({ name }) => datasetJson(await catalog.delete(name)),
    }),
    op({
      name: "catalog.journal",
      method: "get",
      path: "/v1/journal",
      tag: "catalog",
      summary: "Catalog mutations with seq > since, oldest first",
      query: JournalQuery,
      result: named("JournalPage", v.object({ entries: v.array(named("JournalEntry", JournalEntrySchema)), last_seq: v.number() })),
      handler: async ({ since, limit }) => ({ entries: await journal.read(since, limit), last_seq: journal.lastSeq }),
    }),
  ];
}
