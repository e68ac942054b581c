// A tool's answer for an agent: the operation's result as structured content, and a short text
// rendering (a SQL result as a small table) for clients that show the model text only. Both are
// capped: what does not fit is cut at the largest list, and a note says how to get the rest.
// Errors become MCP tool errors (isError) carrying the envelope's code, message and details.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { LakehouseError } from "../errors.ts";

/**
 * Bytes of JSON a tool answer's structured content may hold. Claude Code refuses MCP answers over
 * 25,000 tokens by default (≈ 100 KB of JSON); the answer also carries the text rendering, so the
 * structured part keeps under half of that.
 */
export const MAX_RESULT_BYTES = 48 * 1024;
/** Characters of the text rendering. */
export const MAX_TEXT_CHARS = 16 * 1024;
/** A table cell's characters in the text rendering: a long text column must not crowd out the rows. */
const MAX_CELL_CHARS = 80;
/** Characters of an error's details in its text. */
const MAX_DETAILS_CHARS = 2048;

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? "");

export interface Capped {
  /** The list that was cut, how many of its items are kept, of how many. */
  field: string;
  kept: number;
  of: number;
  how_to_get_the_rest: string;
}

/**
 * The value within maxBytes: its largest top-level list cut to the longest prefix that fits, with
 * `capped` saying so; a value with no such list that is still too large is replaced by a note.
 */
export function capResult(value: Record<string, unknown>, maxBytes: number, rest: string): Record<string, unknown> {
  if (size(value) <= maxBytes) return value;
  const lists = Object.entries(value).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  const largest = lists.sort((a, b) => size(b[1]) - size(a[1]))[0];
  if (largest) {
    const [field, items] = largest;
    const build = (n: number): Record<string, unknown> => {
      const out: Record<string, unknown> = { ...value, [field]: items.slice(0, n) };
      // A SQL result counts and flags its own rows: keep them true to what is sent.
      if (field === "rows" && "row_count" in value) Object.assign(out, { row_count: n, truncated: true });
      out.capped = { field, kept: n, of: items.length, how_to_get_the_rest: rest } satisfies Capped;
      return out;
    };
    // The longest prefix that fits: sizes grow with n, so a binary search finds it in log2(n) tries.
    let lo = 0;
    let hi = items.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (size(build(mid)) <= maxBytes) lo = mid;
      else hi = mid - 1;
    }
    const fitted = build(lo);
    if (size(fitted) <= maxBytes) return fitted;
  }
  return { capped: { bytes: size(value), max_bytes: maxBytes, how_to_get_the_rest: rest } };
}

function cell(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
  const flat = text.replace(/\s+/g, " ").replaceAll("|", "\\|");
  return flat.length > MAX_CELL_CHARS ? `${flat.slice(0, MAX_CELL_CHARS - 1)}…` : flat;
}

/** A SQL result as a Markdown table, cut to MAX_TEXT_CHARS at a row boundary. */
export function sqlTable(result: { columns: { name: string }[]; rows: unknown[]; row_count: number; truncated: boolean; message?: string }): string {
  const lines = [`| ${result.columns.map((c) => cell(c.name)).join(" | ")} |`, `|${result.columns.map(() => "---|").join("")}`];
  let used = lines.join("\n").length;
  let shown = 0;
  for (const row of result.rows) {
    const values = Array.isArray(row) ? row : Object.values(row as Record<string, unknown>);
    const line = `| ${values.map(cell).join(" | ")} |`;
    if (used + line.length + 1 > MAX_TEXT_CHARS - 200) break;
    lines.push(line);
    used += line.length + 1;
    shown++;
  }
  const tail = shown < result.rows.length ? ` (the table shows ${shown}; the structured content has all ${result.rows.length})` : "";
  lines.push(
    "",
    `${result.row_count} row${result.row_count === 1 ? "" : "s"}${tail}${result.truncated ? `; truncated${result.message ? `: ${result.message}` : ""}` : ""}`,
  );
  return lines.join("\n");
}

function textOf(op: string, value: Record<string, unknown>): string {
  let text: string;
  if (op === "sql.query" && Array.isArray(value.columns) && Array.isArray(value.rows)) text = sqlTable(value as never);
  else {
    const json = JSON.stringify(value);
    text = json.length > MAX_TEXT_CHARS ? `${json.slice(0, MAX_TEXT_CHARS)}… (cut; the structured content has it whole)` : json;
  }
  const capped = value.capped as Partial<Capped> | undefined;
  if (capped?.field) text += `\n\nCut to ${capped.kept} of ${capped.of} ${capped.field}: ${capped.how_to_get_the_rest}.`;
  return text;
}

/** An operation's result as a tool answer. */
export function toolResult(op: string, result: unknown, rest: string): CallToolResult {
  // structuredContent must be an object: a bare value (a list, a number, nothing) is wrapped.
  const value = result !== null && typeof result === "object" && !Array.isArray(result) ? (result as Record<string, unknown>) : { result: result ?? null };
  const structured = capResult(value, MAX_RESULT_BYTES, rest);
  return { content: [{ type: "text", text: textOf(op, structured) }], structuredContent: structured };
}

/** A domain error as a tool error: the envelope's code, message and details. */
export function toolError(err: LakehouseError): CallToolResult {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details !== undefined) error.details = err.details;
  let text = `${err.code}: ${err.message}`;
  if (err.details !== undefined) {
    const details = JSON.stringify(err.details);
    text += `\ndetails: ${details.length > MAX_DETAILS_CHARS ? `${details.slice(0, MAX_DETAILS_CHARS)}…` : details}`;
  }
  if (err.retryAfter !== undefined) {
    error.retry_after = err.retryAfter;
    text += `\nretry after ${err.retryAfter} s`;
  }
  return { isError: true, content: [{ type: "text", text }], structuredContent: { error } };
}

/** Anything else that went wrong: no detail leaves the server; the log has it under the request id. */
export function internalError(requestId: string): CallToolResult {
  return toolError(new LakehouseError("internal", `unexpected failure; the server log has it under request id ${requestId}`));
}
