// The fields of a corpus being created or rebuilt (fields.ts): one per text column, each weighed
// as the caller asked or by the default rule over a sample of the dataset's rows.
import { Conflict, ValidationFailed } from "../errors.ts";
import type { RowSource } from "../ports.ts";
import type { CorpusRecord } from "./corpus-store.ts";
import { defaultFields, type Field } from "./fields.ts";
import { type TextSpec, textColumns } from "./rows.ts";

/** Rows read to weigh fields by their length: averages of 1,000 values move little after that. */
const FIELD_SAMPLE_ROWS = 1000;

export interface FieldsChoice {
  /** Undefined: a corpus built before fields, read whole as before. */
  fields?: Field[];
  /** The fields' columns changed: the corpus's lexical index must be rebuilt from scratch. */
  relayout: boolean;
}

export async function resolveFields(
  rows: RowSource,
  input: { dataset: string; id_column: string; field_weights?: Record<string, number> },
  text: TextSpec,
  existing?: CorpusRecord,
): Promise<FieldsChoice> {
  const columns = textColumns(text);
  const given = input.field_weights ?? {};
  const unknown = Object.keys(given).filter((c) => !columns.includes(c));
  if (unknown.length > 0) {
    throw new ValidationFailed(
      `field_weights names ${unknown.map((c) => JSON.stringify(c)).join(", ")}, not a text column (${columns.map((c) => JSON.stringify(c)).join(", ")})`,
      unknown.map((c) => ({ path: `field_weights.${c}`, message: "not a column of text or template" })),
    );
  }
  if (existing && !existing.fields) {
    if (Object.keys(given).length > 0) {
      throw new Conflict(
        `corpus "${existing.name}" was built before field-aware search and reads its text whole; delete it and build it again to weigh fields`,
      );
    }
    return { relayout: false };
  }
  const before = existing?.fields;
  if (before && before.length === columns.length && before.every((f, i) => f.column === columns[i])) {
    return { fields: before.map((f) => ({ column: f.column, weight: given[f.column] ?? f.weight })), relayout: false };
  }
  const kept = Object.fromEntries((before ?? []).map((f) => [f.column, f.weight]));
  const sample = await rows.page(input.dataset, [...new Set([input.id_column, ...columns])], input.id_column, null, FIELD_SAMPLE_ROWS);
  return { fields: defaultFields(columns, sample, { ...kept, ...given }), relayout: before !== undefined };
}
