// What an ingest does to an existing dataset (issue 11, point 2): no mode creates only (an existing
// dataset is a 409 naming the modes), append adds, replace swaps; schema=strict keeps the live
// columns (a 409 with the diff and the option that would accept it), schema=evolve adds, fills,
// drops and widens. The "unchanged" shortcut recognises the same upload sent again.
import { createHash } from "node:crypto";
import type { DataObject, Manifest } from "../catalog/manifest.ts";
import { diffSchemas, type Field, type SchemaDiff } from "../catalog/schema.ts";
import { Conflict } from "../errors.ts";
import type { CsvOptions } from "./convert.ts";
import type { UploadFormat } from "./upload.ts";

export type IngestMode = "replace" | "append";
export type SchemaPolicy = "strict" | "evolve";

/** Identifies an upload together with the options that shape its rows. */
export function sourceId(uploadSha256: string, format: UploadFormat, csv: CsvOptions): string {
  const shape = format === "csv" ? JSON.stringify([format, csv.header, csv.delimiter, csv.nulls]) : JSON.stringify([format]);
  return createHash("sha256").update(uploadSha256).update("\n").update(shape).digest("hex");
}

/**
 * The object an identical earlier ingest produced, if the live dataset already holds it: for an
 * append anywhere among its objects; otherwise (replace, or no mode: sending the file that created
 * the dataset again) as its only object.
 */
export function findUnchanged(live: Manifest | undefined, mode: IngestMode | undefined, source: string): DataObject | undefined {
  if (!live) return undefined;
  if (mode !== "append") return live.objects.length === 1 && live.objects[0]!.source_sha256 === source ? live.objects[0] : undefined;
  return live.objects.find((o) => o.source_sha256 === source);
}

/** No mode and the dataset exists: nothing is replaced silently. */
export function existsConflict(name: string, live: Manifest): Conflict {
  return new Conflict(
    `dataset "${name}" exists (${live.row_count} rows); pass mode=append to add these rows or mode=replace to replace its data (with no mode, ingest only creates)`,
    { dataset: name, version: live.version, row_count: live.row_count, modes: ["append", "replace"] },
  );
}

/** The dataset's columns after an evolve: kept (or dropped by a replace), then the new ones. */
export function evolvedFields(live: readonly Field[], added: { name: string; type: string }[], missing: string[], mode: IngestMode | undefined): Field[] {
  const gone = new Set(mode === "append" ? [] : missing);
  return [...live.filter((f) => !gone.has(f.name)), ...added.map((a) => ({ ...a, nullable: true }))];
}

/** schema=strict and the upload's columns are not the dataset's: the diff and what would accept it. */
export function columnsConflict(
  name: string,
  live: Manifest,
  added: { name: string; type: string }[],
  missing: string[],
  mode: IngestMode | undefined,
): Conflict {
  // The diff is the upload's columns against the dataset's (what is missing shows as removed).
  const diff = diffSchemas(live.fields, evolvedFields(live.fields, added, missing, "replace"));
  const parts: string[] = [];
  if (added.length > 0) parts.push(`it has ${added.length > 1 ? "columns" : "a column"} the dataset lacks (${added.map((a) => a.name).join(", ")})`);
  if (missing.length > 0) parts.push(`it lacks ${missing.length > 1 ? "columns" : "a column"} the dataset has (${missing.join(", ")})`);
  const effects: string[] = [];
  if (added.length > 0) effects.push("add the new columns (NULL in earlier rows)");
  if (missing.length > 0) effects.push(mode === "append" ? "fill the missing ones with NULL" : "drop the missing ones");
  return new Conflict(`the upload does not match the columns of dataset "${name}": ${parts.join("; ")}; pass schema=evolve to ${effects.join(" and ")}`, {
    dataset: name,
    diff,
    accept: "schema=evolve",
  });
}

/**
 * The new version's fields: the converted file's (names, order, types). An append keeps a column
 * nullable when either side has nulls; a column new to the dataset is nullable (earlier rows).
 */
export function nextFields(live: Manifest | undefined, converted: Field[], mode: IngestMode | undefined): Field[] {
  if (!live || mode !== "append" || live.objects.length === 0) return converted;
  const before = new Map(live.fields.map((f) => [f.name, f.nullable]));
  return converted.map((f) => ({ ...f, nullable: f.nullable || (before.get(f.name) ?? true) }));
}

/** The schema change an ingest committed, for its answer; undefined when the schema stayed. */
export function schemaChange(live: Manifest | undefined, fields: Field[]): SchemaDiff | undefined {
  if (!live) return undefined;
  const diff = diffSchemas(live.fields, fields);
  return diff.added.length || diff.removed.length || diff.retyped.length || diff.reordered ? diff : undefined;
}
