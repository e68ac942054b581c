// The ingest module's operation: POST /v1/ingest/{name}, a file as multipart (field "file") or as
// a raw body, streamed to disk, converted to Parquet and committed as the dataset's next version.
import * as v from "valibot";
import { named } from "../ops/openapi.ts";
import { actorOf } from "../ops/identity.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { IngestResult, Ingestor } from "./ingest.ts";

/** "true"/"false" over HTTP, a boolean in-process. */
const queryBool = v.union([
  v.boolean(),
  v.pipe(
    v.picklist(["true", "false"]),
    v.transform((s) => s === "true"),
  ),
]);

const IngestQuery = v.object({
  mode: v.optional(
    v.pipe(v.picklist(["replace", "append"]), v.description("append adds the rows, replace swaps the data; absent: create only (an existing dataset is 409)")),
  ),
  schema: v.optional(
    v.pipe(
      v.picklist(["strict", "evolve"]),
      v.description(
        "strict: the upload must have the dataset's columns (409 with the diff otherwise); evolve: new columns are added, missing ones filled with NULL (append) or dropped (replace), a column a value does not fit is widened",
      ),
    ),
    "strict",
  ),
  format: v.optional(v.picklist(["csv", "ndjson", "parquet"])),
  header: v.optional(queryBool, true),
  delimiter: v.optional(v.pipe(v.string(), v.regex(/^[^"\r\n]$/, "delimiter must be one character other than a quote or a newline")), ","),
  /** Comma-separated strings read as NULL; the default reads only empty fields as NULL. */
  nulls: v.optional(v.pipe(v.string(), v.description("Comma-separated strings read as NULL; by default only empty fields are")), ""),
});

const IngestResultSchema = named(
  "IngestResult",
  v.object({
    dataset_id: v.string(),
    name: v.string(),
    rows: v.number(),
    columns: v.number(),
    fingerprint: v.string(),
    key: v.string(),
    bytes: v.number(),
    ms: v.number(),
    result: v.picklist(["created", "replaced", "appended", "unchanged"]),
    version: v.pipe(v.number(), v.description("The dataset's version after this ingest")),
    schema_change: v.optional(
      v.pipe(
        v.object({
          added: v.array(v.object({ name: v.string(), type: v.string() })),
          removed: v.array(v.object({ name: v.string(), type: v.string() })),
          retyped: v.array(v.object({ name: v.string(), from: v.string(), to: v.string() })),
          reordered: v.boolean(),
        }),
        v.description("Present when schema=evolve changed the dataset's columns"),
      ),
    ),
  }),
);

export function ingestOperations(ingestor: Ingestor): AnyOperation[] {
  return [
    op({
      name: "ingest.upload",
      method: "post",
      path: "/v1/ingest/{name}",
      tag: "ingest",
      summary: "Load a CSV, NDJSON or Parquet file into a dataset (converted to Parquet, queryable as a SQL view)",
      params: v.object({ name: v.pipe(v.string(), v.description("Dataset name: letters, digits, _, 1-63 chars, starting with a letter")) }),
      query: IngestQuery,
      stream: {
        contentTypes: ["multipart/form-data", "text/csv", "application/x-ndjson", "application/vnd.apache.parquet"],
        description: 'The file, streamed to disk (never held in memory); multipart uploads use the field "file".',
      },
      result: IngestResultSchema,
      errors: {
        bad_request:
          "Unreadable file (details.line names the line where known; an NDJSON line nested over 64 levels is one), a value that does not fit the dataset's column (details: line or row, column, value, type), or an empty upload",
        validation_failed: "An input failed validation, or the dataset name is invalid; details names the field",
        conflict:
          "The dataset exists and no mode was given (details.modes); under schema=strict the upload's columns differ from the dataset's (details.diff, details.accept names the option that would take it); or a concurrent writer won",
        too_large:
          "Over ingest.max_ingest_bytes; or the converted Parquet is over the store's cap for datasets/ (storage.max_object_bytes, storage.prefix_caps); or the dataset's next manifest would pass its 16 MiB cap (each append adds a data object). Nothing was stored",
        unsupported_media_type: "The upload's format cannot be told or is not supported",
        unprocessable: "The conversion process crashed on this upload (details.signal); nothing was stored",
        unavailable:
          "Nothing was stored: the catalog journal or the dataset's version numbers are used up (/health names the stray object); the dataset is unavailable (no version of its manifest could be read at start-up: details.dataset); the conversion process was killed or failed to run (details.signal or exit_code); or the server is shutting down",
      },
      http: {
        status: (r: IngestResult) => (r.result === "created" ? 201 : 200),
        statuses: { 201: "Created", 200: "Replaced, appended or unchanged" },
      },
      handler: ({ name, mode, schema, format, header, delimiter, nulls, stream }, ctx) =>
        ingestor.ingest(name, stream ?? { body: null }, {
          mode,
          schema,
          format,
          csv: { header, delimiter, nulls: nulls.split(",") },
          actor: actorOf(ctx.identity),
        }),
    }),
  ];
}
