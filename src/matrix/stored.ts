// What a corpus keeps with each vector besides the row's metadata columns: the text it was made
// from (`_text`, the template filled from the row, shown by the vector API and used by the
// required-terms cut) and, for a fielded corpus (fields.ts), where each field's value lies in that
// text (`_fields`: [start, end) per field), so the fields can be recovered exactly — by a lexical
// index rebuilt from the vector index — without storing the text twice.
import { FIELD_SEP } from "./fields.ts";

export const TEXT_KEY = "_text";
export const FIELDS_KEY = "_fields";
/** Metadata keys a corpus writes itself: no metadata column may take them, no result shows them. */
export const RESERVED_KEYS: readonly string[] = [TEXT_KEY, FIELDS_KEY];

export type Spans = [start: number, end: number][];

/** A stored item's text and its metadata without the reserved keys. */
export function storedDoc(stored: Record<string, unknown>): { text: string | undefined; metadata: Record<string, unknown> } {
  const { [TEXT_KEY]: text, [FIELDS_KEY]: _spans, ...metadata } = stored;
  return { text: typeof text === "string" ? text : undefined, metadata };
}

/** The fields' values, each cut from the text, joined by FIELD_SEP (a separator inside a value becomes a space). */
export function fieldedText(text: string, spans: Spans): string {
  return spans.map(([s, e]) => text.slice(s, e).replaceAll(FIELD_SEP, " ")).join(FIELD_SEP);
}

/** What a stored item's lexical index entry is made from: its fields joined, or its whole text. */
export function lexicalTextOf(stored: Record<string, unknown> | undefined): string | undefined {
  const text = stored?.[TEXT_KEY];
  if (typeof text !== "string") return undefined;
  const spans = stored![FIELDS_KEY];
  if (!isSpans(spans, text.length)) return text;
  return fieldedText(text, spans);
}

function isSpans(x: unknown, length: number): x is Spans {
  return (
    Array.isArray(x) &&
    x.every((s) => Array.isArray(s) && s.length === 2 && Number.isInteger(s[0]) && Number.isInteger(s[1]) && 0 <= s[0] && s[0] <= s[1] && s[1] <= length)
  );
}
