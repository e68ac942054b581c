// MCP resources: every dataset as lakehouse://datasets/{name} (schema, row count, 20 sample rows)
// and the OpenAPI document as lakehouse://openapi.json. Read through the operation registry with
// the caller's identity, like the tools.
import { McpError, type ReadResourceResult, type Resource, type ResourceTemplate } from "@modelcontextprotocol/sdk/types.js";
import { LakehouseError } from "../errors.ts";
import { quoteIdent } from "../lib/sql-quote.ts";
import type { CallContext, OperationRegistry } from "../ops/registry.ts";
import { capResult, MAX_RESULT_BYTES } from "./render.ts";

/** Sample rows a dataset resource shows: enough to see the values' shapes, few enough to read. */
export const SAMPLE_ROWS = 20;
/** JSON-RPC code MCP gives an unknown resource. */
const RESOURCE_NOT_FOUND = -32002;

export const OPENAPI_URI = "lakehouse://openapi.json";
const DATASET_PREFIX = "lakehouse://datasets/";
export const datasetUri = (name: string) => `${DATASET_PREFIX}${encodeURIComponent(name)}`;

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: `${DATASET_PREFIX}{name}`,
    name: "dataset",
    title: "A dataset",
    description: `A dataset's columns with types, row count, version and ${SAMPLE_ROWS} sample rows`,
    mimeType: "application/json",
  },
];

interface DatasetSummary {
  name: string;
  row_count: number;
  fields: { name: string; type: string; nullable: boolean }[];
}

export async function listResources(ops: OperationRegistry, ctx: CallContext): Promise<Resource[]> {
  const { datasets } = await ops.call<{ datasets: DatasetSummary[] }>("catalog.list", {}, ctx);
  return [
    { uri: OPENAPI_URI, name: "openapi", title: "OpenAPI document", description: "The lakehouse HTTP API (OpenAPI 3.1)", mimeType: "application/json" },
    ...datasets.map((d) => ({
      uri: datasetUri(d.name),
      name: d.name,
      title: `Dataset ${d.name}`,
      description: `${d.row_count} rows, ${d.fields.length} columns: ${d.fields.map((f) => f.name).join(", ")}`.slice(0, 500),
      mimeType: "application/json",
    })),
  ];
}

const json = (uri: string, value: unknown): ReadResourceResult => ({ contents: [{ uri, mimeType: "application/json", text: JSON.stringify(value) }] });

export async function readResource(ops: OperationRegistry, uri: string, ctx: CallContext): Promise<ReadResourceResult> {
  try {
    if (uri === OPENAPI_URI) return json(uri, await ops.call("system.openapi", {}, ctx));
    if (uri.startsWith(DATASET_PREFIX)) {
      let name: string;
      try {
        name = decodeURIComponent(uri.slice(DATASET_PREFIX.length));
      } catch {
        throw new McpError(RESOURCE_NOT_FOUND, `resource not found: ${uri}`, { uri });
      }
      const d = await ops.call<DatasetSummary & { version: number }>("catalog.get", { name }, ctx);
      const sample = await ops.call<{ rows: unknown[] }>("sql.query", { sql: `select * from ${quoteIdent(name)} limit ${SAMPLE_ROWS}`, shape: "objects" }, ctx);
      const body = { name: d.name, version: d.version, row_count: d.row_count, fields: d.fields, sample_rows: sample.rows };
      return json(uri, capResult(body, MAX_RESULT_BYTES, `query the dataset with the sql_query tool: select * from ${quoteIdent(name)} limit 5`));
    }
  } catch (err) {
    if (err instanceof LakehouseError && err.code === "not_found") throw new McpError(RESOURCE_NOT_FOUND, `resource not found: ${uri}`, { uri });
    throw err;
  }
  throw new McpError(RESOURCE_NOT_FOUND, `resource not found: ${uri}`, { uri });
}
