// The catalog's operations: datasets (list, get, schema, delete) and the mutation journal.
import * as v from "valibot";
import { queryInt } from "../http/body.ts";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { Catalog } from "./catalog.ts";
import { type Journal, JournalEntrySchema } from "./journal.ts";
import { actorOf } from "../ops/identity.ts";
import type { Manifest, VERSION_OPS } from "./manifest.ts";
import type { VersionState } from "./retention.ts";

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

/** What each way a version came to be is called in the versions listing. */
const RESULT_OF = { register: "created", replace: "replaced", append: "appended", evolve: "evolved", restore: "restored", delete: "deleted" } as const;
const VERSION_RESULTS = Object.values(RESULT_OF);

const VersionSchema = named(
  "DatasetVersion",
  v.object({
    version: v.number(),
    /** Commit time (ISO 8601). Absent when the version's manifest is damaged. */
    at: v.optional(v.string()),
    result: v.optional(v.picklist(VERSION_RESULTS)),
    rows: v.optional(v.number()),
    columns: v.optional(v.number()),
    fingerprint: v.optional(v.string()),
    actor: v.optional(v.string()),
    restored_from: v.optional(v.number()),
    /** Its data is kept: readable in SQL as "name@version", restorable. */
    retained: v.boolean(),
    /** False when its manifest could not be read (damaged). */
    readable: v.boolean(),
  }),
);

function versionJson(s: VersionState): v.InferOutput<typeof VersionSchema> {
  const m = s.manifest;
  if (!m) return { version: s.version, retained: s.retained, readable: false };
  return {
    version: s.version,
    at: m.updated_at,
    result: RESULT_OF[m.op ?? inferredOp(m)],
    rows: m.row_count,
    columns: m.fields.length,
    fingerprint: m.fingerprint,
    ...(m.actor ? { actor: m.actor } : {}),
    ...(m.restored_from ? { restored_from: m.restored_from } : {}),
    retained: s.retained,
    readable: true,
  };
}

/** Manifests written before versions recorded how they came to be. */
function inferredOp(m: Manifest): (typeof VERSION_OPS)[number] {
  return m.deleted ? "delete" : m.version === 1 ? "register" : "replace";
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
      summary: "Delete a dataset and its SQL view (a tombstone version: restorable within retention)",
      params: NameParam,
      result: DatasetSchema,
      errors: {
        ...notFound,
        conflict: "Another writer changed the dataset meanwhile; retry",
        unavailable: "The catalog journal has used its last sequence number (/health: journal_full), so catalog writes are refused",
      },
      handler: async ({ name }, ctx) => datasetJson(await catalog.delete(name, actorOf(ctx.identity))),
    }),
    op({
      name: "catalog.versions",
      method: "get",
      path: "/v1/catalog/datasets/{name}/versions",
      tag: "catalog",
      summary: 'A dataset\'s versions, newest first, with whether each is retained (readable as "name@version" in SQL, restorable)',
      params: NameParam,
      query: v.object({
        before: v.optional(queryInt(1, Number.MAX_SAFE_INTEGER)),
        limit: v.optional(queryInt(1, 1000), 100),
      }),
      result: named(
        "DatasetVersions",
        v.object({
          name: v.string(),
          versions: v.array(VersionSchema),
          /** Pass as `before` for the next page; absent on the last page. */
          next_before: v.optional(v.number()),
          keep_versions: v.number(),
          keep_days: v.number(),
        }),
      ),
      errors: { not_found: "No dataset of that name has ever existed" },
      handler: async ({ name, before, limit }) => {
        const page = await catalog.versions(name, { before, limit: limit + 1 });
        const versions = page.slice(0, limit).map(versionJson);
        const { keepVersions, keepDays } = catalog.retentionPolicy;
        return { name, versions, ...(page.length > limit ? { next_before: versions.at(-1)!.version } : {}), keep_versions: keepVersions, keep_days: keepDays };
      },
    }),
    op({
      name: "catalog.restore",
      method: "post",
      path: "/v1/catalog/datasets/{name}/restore",
      tag: "catalog",
      summary: "Commit a new version equal to an earlier retained one (undo a replace, an append or a delete); nothing is deleted",
      params: NameParam,
      body: v.object({
        version: v.optional(
          v.pipe(v.number(), v.integer(), v.minValue(1), v.description("The version to restore; by default the newest one before the current that has data")),
        ),
      }),
      result: named("RestoreResult", v.object({ dataset: DatasetSchema, restored_from: v.number() })),
      errors: {
        not_found: "No such dataset or version, the version is past retention (details.keep_versions, keep_days), or it is a deletion",
        conflict: "Another writer changed the dataset meanwhile; retry",
        unavailable: "The version's manifest is damaged, or catalog writes are refused (journal full)",
      },
      handler: async ({ name, version }, ctx) => {
        const done = await catalog.restore(name, version, actorOf(ctx.identity));
        return { dataset: datasetJson(done.manifest), restored_from: done.restored_from };
      },
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
