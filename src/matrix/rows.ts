// From a dataset row to what a corpus stores, pure: the text to embed (columns joined or a
// template filled), the metadata, and content hashes that let a rebuild skip unchanged rows.
import { createHash } from "node:crypto";
import { ValidationFailed } from "../errors.ts";

export type Row = Record<string, unknown>;

export interface TextSpec {
  /** Columns joined with newlines, or a template with {column} placeholders. */
  columns?: string[];
  template?: string;
}

export const PLACEHOLDER = /\{([^{}]+)\}/g;

/** Columns a template reads, in order of first use. */
export function templateColumns(template: string): string[] {
  const cols = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!.trim());
  if (cols.length === 0) throw new ValidationFailed("text template names no {column}", [{ path: "template", message: "needs at least one {column}" }]);
  return [...new Set(cols)];
}

export function textColumns(spec: TextSpec): string[] {
  return spec.template !== undefined ? templateColumns(spec.template) : [...new Set(spec.columns ?? [])];
}

/** A column's value as text: trimmed, "" for null. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value.trim() : String(value);
}

/** The row's text, or "" when every column it reads is empty (such rows are skipped and counted). */
export function renderText(spec: TextSpec, row: Row): string {
  if (spec.template !== undefined) {
    const cols = templateColumns(spec.template);
    if (cols.every((c) => cell(row[c]) === "")) return "";
    return spec.template.replace(PLACEHOLDER, (_, name: string) => cell(row[name.trim()]));
  }
  return (spec.columns ?? [])
    .map((c) => cell(row[c]))
    .filter((s) => s !== "")
    .join("\n");
}

export function pickMetadata(columns: readonly string[], row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) if (row[c] !== undefined) out[c] = row[c];
  return out;
}

/** 64 bits of SHA-256: ample to tell a changed row from an unchanged one. */
export function contentHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 16);
}

/** Stable JSON: object keys sorted, so equal metadata always hashes the same. */
export function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(",")}]`;
  if (x && typeof x === "object") {
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((x as Row)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(x) ?? "null";
}

/** [text hash, metadata hash] of one stored row. */
export type RowHashes = readonly [string, string];

export type RowChange = "new" | "text_changed" | "metadata_changed" | "unchanged";

export function classifyRow(previous: RowHashes | undefined, current: RowHashes): RowChange {
  if (!previous) return "new";
  if (previous[0] !== current[0]) return "text_changed";
  if (previous[1] !== current[1]) return "metadata_changed";
  return "unchanged";
}
