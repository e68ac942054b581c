// Field-aware documents, pure. A corpus built since field-aware search landed treats each text
// column (each {placeholder} of its template, or each column of `text`) as a field of its own:
// BM25 counts a term per field, with the field's own document frequency and length
// (lexical/bm25.ts), and the document's vector is a weighted sum of its fields' unit vectors. The
// template's literal words ("in", "shift:") are the same in every document and are left out.
//
// Why: a 550-character résumé drowns the one mention of a worker's skill, city and shift. Over
// the whole rendered text, nDCG@10 on the labelled set (docs/matrix.md) was 0.474 for BM25, 0.204
// for the hash embedder and 0.144 for words; per field, with the résumé weighed by the rule below,
// 0.73, 0.68 and 0.57 (measured with the prototype that chose these rules).
//
// Inside the matrix a fielded document travels as ONE string — its values joined by FIELD_SEP
// (U+001F, the ASCII unit separator, which the tokenizers treat as a word break) — so lexical
// deltas, calibration probes and BM25 take it like a text. What is stored with the vector is the
// text as the template renders it plus each field's span in it (stored.ts).
import { tokenize } from "./lexical/tokenize.ts";
import { cell, PLACEHOLDER, type Row, type TextSpec } from "./rows.ts";
import type { Spans } from "./stored.ts";

export const FIELD_SEP = "\u001f";

export interface Field {
  column: string;
  /** How much the field counts against a field of a few words (1). */
  weight: number;
}

/**
 * Default weight of a field: 1 up to SHORT_FIELD_TERMS terms on average, then
 * sqrt(SHORT_FIELD_TERMS / average terms). A word that is the whole of a two-word field (a skill,
 * a city) says more about the document than the same word once in a 90-word résumé. On the
 * labelled set the résumé (≈90 terms → 0.21) scored best between 0.15 and 0.25 for both BM25 and
 * the embedders, against 0.571 (BM25) at weight 1.
 */
export const SHORT_FIELD_TERMS = 4;
const MIN_WEIGHT = 0.05;

/** The words of a template's literal text ("{skill} in {city}, night shift" → night, shift): in every document's text, indexed in none of its fields. */
export function literalWords(spec: TextSpec): string[] {
  return spec.template === undefined ? [] : tokenize(spec.template.replace(PLACEHOLDER, " "));
}

/**
 * The row's text as the spec renders it (a template filled, or columns joined with newlines), and
 * the span of each field's value in it, in `fields` order (a column used twice: its first use).
 * The text is "" when every field is empty (such rows are skipped).
 */
export function renderWithSpans(spec: TextSpec, fields: readonly Field[], row: Row): { text: string; spans: Spans; values: string[] } {
  const values = fields.map((f) => cell(row[f.column]));
  if (values.every((v) => v === "")) return { text: "", spans: [], values };
  const at = new Map<string, [number, number]>();
  let text = "";
  if (spec.template !== undefined) {
    let last = 0;
    for (const m of spec.template.matchAll(PLACEHOLDER)) {
      text += spec.template.slice(last, m.index);
      const column = m[1]!.trim();
      const value = cell(row[column]);
      if (!at.has(column)) at.set(column, [text.length, text.length + value.length]);
      text += value;
      last = m.index + m[0].length;
    }
    text += spec.template.slice(last);
  } else {
    for (const column of spec.columns ?? []) {
      const value = cell(row[column]);
      if (value === "" || at.has(column)) {
        if (!at.has(column)) at.set(column, [text.length, text.length]);
        continue;
      }
      if (text !== "") text += "\n";
      at.set(column, [text.length, text.length + value.length]);
      text += value;
    }
  }
  return { text, spans: fields.map((f) => at.get(f.column) ?? [0, 0]), values };
}

/** A fielded text's values, exactly `n` of them (missing ones empty, extra ones joined into the last). */
export function splitFields(text: string, n: number): string[] {
  if (n === 1) return [text];
  const parts = text.split(FIELD_SEP);
  if (parts.length > n) parts.splice(n - 1, parts.length - n + 1, parts.slice(n - 1).join(" "));
  while (parts.length < n) parts.push("");
  return parts;
}

/** Weights for `columns` from sample rows' average term counts; `given` weights win. */
export function defaultFields(columns: readonly string[], sample: readonly Row[], given: Readonly<Record<string, number>> = {}): Field[] {
  return columns.map((column) => {
    if (given[column] !== undefined) return { column, weight: given[column]! };
    let terms = 0;
    let rows = 0;
    for (const row of sample) {
      const value = cell(row[column]);
      if (value === "") continue;
      terms += tokenize(value).length;
      rows++;
    }
    const avg = rows === 0 ? 0 : terms / rows;
    const weight = avg <= SHORT_FIELD_TERMS ? 1 : Math.max(MIN_WEIGHT, Math.sqrt(SHORT_FIELD_TERMS / avg));
    return { column, weight: Math.round(weight * 1000) / 1000 };
  });
}

/** The key a fielded corpus's row hashes are salted with: another weighting means other vectors. */
export function fieldsKey(fields: readonly Field[]): string {
  return fields.map((f) => `${f.column}=${f.weight}`).join(",");
}

/**
 * A fielded document's vector: the weighted sum of its non-empty fields' unit vectors, made unit.
 * `vectorOf` gives a field value's vector (any length; it is normalized here).
 */
export function mixFields(values: readonly string[], fields: readonly Field[], vectorOf: (value: string) => readonly number[]): number[] {
  let acc: Float64Array | undefined;
  values.forEach((value, i) => {
    const w = fields[i]!.weight;
    if (value === "" || w === 0) return;
    const v = vectorOf(value);
    acc ??= new Float64Array(v.length);
    let norm = 0;
    for (const x of v) norm += x * x;
    if (norm === 0) return;
    const f = w / Math.sqrt(norm);
    for (let d = 0; d < v.length; d++) acc[d]! += v[d]! * f;
  });
  if (!acc) return [];
  let norm = 0;
  for (const x of acc) norm += x * x;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Array.from(acc, (x) => x * inv);
}
