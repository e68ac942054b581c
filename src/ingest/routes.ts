// POST /v1/ingest/{name}: a file as multipart (field "file") or as a raw body.
import * as v from "valibot";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import type { Ingestor } from "./ingest.ts";

const IngestQuery = v.object({
  mode: v.optional(v.picklist(["replace", "append"]), "replace"),
  format: v.optional(v.picklist(["csv", "ndjson", "parquet"])),
  header: v.optional(v.pipe(v.picklist(["true", "false"]), v.transform((s) => s === "true")), "true"),
  delimiter: v.optional(
    v.pipe(v.string(), v.regex(/^[^"\r\n]$/, "delimiter must be one character other than a quote or a newline")),
    ",",
  ),
  /** Comma-separated strings read as NULL; the default reads only empty fields as NULL. */
  nulls: v.optional(v.string(), ""),
});

const IngestResponse = v.object({
  dataset_id: v.string(),
  name: v.string(),
  rows: v.number(),
  columns: v.number(),
  fingerprint: v.string(),
  key: v.string(),
  bytes: v.number(),
  ms: v.number(),
  result: v.picklist(["created", "replaced", "appended", "unchanged"]),
});

export function ingestRoutes(ingestor: Ingestor, api: ApiSpec, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "/v1/ingest", "ingest", jsonLimit);
  r.route(
    {
      method: "post",
      path: "/{name}",
      summary: "Load a CSV, NDJSON or Parquet file into a dataset (converted to Parquet, queryable as a SQL view)",
      pathParams: { name: "Dataset name: letters, digits, _, 1-63 chars, starting with a letter" },
      query: IngestQuery,
      rawBody: {
        contentTypes: ["multipart/form-data", "text/csv", "application/x-ndjson", "application/vnd.apache.parquet"],
        description: "The file, streamed to disk (never held in memory); multipart uploads use the field \"file\".",
      },
      responses: {
        200: { description: "Replaced, appended or unchanged", schema: IngestResponse },
        201: { description: "Created", schema: IngestResponse },
        400: { description: "Unreadable file (details.line names the line where known) or invalid name" },
        409: { description: "Schema differs from the dataset's (details.diff), or a concurrent writer won" },
        413: { description: "Over ingest.max_ingest_bytes" },
      },
    },
    async (c, { query }) => {
      const result = await ingestor.ingest(c.req.param("name")!, c.req.raw, {
        mode: query.mode,
        format: query.format,
        csv: { header: query.header, delimiter: query.delimiter, nulls: query.nulls.split(",") },
      });
      return c.json(result, result.result === "created" ? 201 : 200);
    },
  );
  return r;
}
