// The MCP tools: a curated list, not one tool per route. Each is a name agents read well, the
// operation it calls (its description and input JSON Schema come from that operation's valibot
// schemas, src/mcp/schema.ts), and what differs for an agent: fields left out, defaults, a
// single-item input where the route also takes a batch, and how to get what a capped result left
// out. A tool whose operation is not registered is not offered.
import { EventIn } from "../observer/schemas.ts";
import type { Schema } from "../ops/operation.ts";
import { NewTrace } from "../pathway/schemas.ts";

/**
 * Rows a sql_query answers when the agent names no max_rows. An agent reads every row it gets
 * into its context: 100 rows of a 12-column staffing table are ≈ 25 KB of JSON, about what one
 * tool answer should cost; max_rows asks for more (up to sql.max_rows).
 */
export const DEFAULT_SQL_ROWS = 100;

export interface ToolSpec {
  /** The tool's name (snake_case, what agents call). */
  name: string;
  /** The operation it calls (module.verb). */
  op: string;
  /** Said before the operation's own summary and description. */
  lead?: string;
  /** Said after them: defaults and limits that are the tool's, not the route's. */
  note?: string;
  /** The input, when it is not the operation's (a single item where the route also takes a batch). */
  input?: Schema;
  /** Input fields of the operation the tool does not offer. */
  omit?: string[];
  /** Turns the tool's arguments into the operation's flat input. */
  map?: (args: Record<string, unknown>) => Record<string, unknown>;
  /** Reads only (MCP's readOnlyHint); otherwise it writes, never destructively. */
  readOnly: boolean;
  /** How to get what a capped result left out. */
  rest: string;
}

export const TOOLS: readonly ToolSpec[] = [
  {
    name: "sql_query",
    op: "sql.query",
    lead: "Query the lakehouse with one read-only DuckDB SQL statement; every dataset is a view named after it (list_datasets).",
    note: `Answers at most ${DEFAULT_SQL_ROWS} rows unless max_rows says otherwise (up to the server's sql.max_rows).`,
    omit: ["shape"],
    map: (args) => ({ ...args, max_rows: args.max_rows ?? DEFAULT_SQL_ROWS, shape: "arrays" }),
    readOnly: true,
    rest: "aggregate or filter in SQL, page with LIMIT/OFFSET, or fetch the whole result with POST /v1/sql/export (format csv, ndjson, arrow or parquet)",
  },
  {
    name: "list_datasets",
    op: "catalog.list",
    lead: "List the datasets (tables) with their columns and row counts.",
    readOnly: true,
    rest: "describe one dataset with describe_dataset, or read GET /v1/catalog/datasets",
  },
  {
    name: "describe_dataset",
    op: "catalog.get",
    lead: "Describe one dataset: columns with types, row count, version. Sample rows: read the resource lakehouse://datasets/{name}.",
    readOnly: true,
    rest: "read GET /v1/catalog/datasets/{name}",
  },
  {
    name: "matrix_search",
    op: "matrix.search",
    lead: "Search the matrix (corpora built from datasets, e.g. workers or candidates) by text or vector, with filters.",
    readOnly: true,
    rest: "ask for a smaller k",
  },
  {
    name: "record_outcome",
    op: "matrix.record_playbook",
    lead: "Record how a matrix_search result worked out (success or failure) for a query, so similar later searches rank it accordingly.",
    readOnly: false,
    rest: "list playbooks with GET /v1/matrix/playbooks",
  },
  {
    name: "vector_search",
    op: "vector.search",
    lead: "Nearest neighbours in one vector index (name), optionally filtered on metadata.",
    readOnly: true,
    rest: "ask for a smaller k, or leave include_vectors off",
  },
  {
    name: "embed",
    op: "embed.texts",
    lead: "Turn texts into vectors with the server's embedder.",
    readOnly: true,
    rest: "embed fewer texts per call",
  },
  {
    name: "memory_add",
    op: "pathway.add",
    lead: "Remember something: record a trace (a fact, preference, pathway or outcome) in the agent memory, scoped by user_id, agent_id, run_id or namespace.",
    input: NewTrace,
    readOnly: false,
    rest: "read the trace with GET /v1/pathway/traces/{uid}",
  },
  {
    name: "memory_search",
    op: "pathway.search",
    lead: "Recall: semantic search over the agent memory.",
    readOnly: true,
    rest: "ask for a smaller k or narrow the scope",
  },
  {
    name: "memory_revise",
    op: "pathway.revise",
    lead: "Correct a memory: a new trace supersedes the one named by uid (which stays in its history).",
    readOnly: false,
    rest: "read GET /v1/pathway/traces/{uid}",
  },
  {
    name: "memory_retire",
    op: "pathway.retire",
    lead: "Retire a memory that no longer holds (it leaves search; its history stays).",
    readOnly: false,
    rest: "read GET /v1/pathway/traces/{uid}",
  },
  {
    name: "memory_history",
    op: "pathway.history",
    lead: "A memory's history: every version of it and of the traces it superseded.",
    readOnly: true,
    rest: "read GET /v1/pathway/traces/{uid}/history",
  },
  {
    name: "observer_review",
    op: "observer.review",
    lead: "Have a claim checked against truth rules and SQL evidence before acting on it (the review is recorded).",
    readOnly: false,
    rest: "give fewer rules or evidence items",
  },
  {
    name: "observer_event",
    op: "observer.post_events",
    lead: "Report an event (what the agent did or saw) to the observer.",
    input: EventIn,
    readOnly: false,
    rest: "list events with GET /v1/observer/events",
  },
  {
    name: "workflow_run",
    op: "workflows.start_run",
    lead: "Start a workflow run (a saved workflow by name, or a definition); answers its id at once: follow it with workflow_status.",
    readOnly: false,
    rest: "read GET /v1/workflows/runs/{id}",
  },
  {
    name: "workflow_status",
    op: "workflows.get_run",
    lead: "A workflow run's status, each step's state, outputs and errors.",
    readOnly: true,
    rest: "read GET /v1/workflows/runs/{id}",
  },
];
