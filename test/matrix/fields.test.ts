// Field-aware documents (src/matrix/fields.ts, stored.ts): the text a row renders to and where each
// field lies in it, the default weights, the vector mix, and the stored form read back.
import { describe, expect, test } from "bun:test";
import { defaultFields, FIELD_SEP, mixFields, renderWithSpans, SHORT_FIELD_TERMS, splitFields } from "../../src/matrix/fields.ts";
import { renderText } from "../../src/matrix/rows.ts";
import { FIELDS_KEY, fieldedText, lexicalTextOf, storedDoc, TEXT_KEY } from "../../src/matrix/stored.ts";

const template = "{primary_skill} in {city}, {state}: {resume_text}";
const fields = ["primary_skill", "city", "state", "resume_text"].map((column) => ({ column, weight: 1 }));
const row = { primary_skill: "Welder", city: " Gary ", state: "IN", resume_text: "MIG and TIG, 6 years." };

describe("rendering", () => {
  test("a template renders as before, and each field's span cuts its value out of the text", () => {
    const { text, spans, values } = renderWithSpans({ template }, fields, row);
    expect(text).toBe(renderText({ template }, row));
    expect(spans.map(([s, e]) => text.slice(s, e))).toEqual(["Welder", "Gary", "IN", "MIG and TIG, 6 years."]);
    expect(values).toEqual(["Welder", "Gary", "IN", "MIG and TIG, 6 years."]);
    expect(fieldedText(text, spans)).toBe(["Welder", "Gary", "IN", "MIG and TIG, 6 years."].join(FIELD_SEP));
  });

  test("columns join with newlines as before; an empty field has an empty span; a column used twice takes its first use", () => {
    const cols = { columns: ["primary_skill", "city", "resume_text"] };
    const f = cols.columns.map((column) => ({ column, weight: 1 }));
    const r = { primary_skill: "Welder", city: null, resume_text: "Likes night shifts." };
    const { text, spans } = renderWithSpans(cols, f, r);
    expect(text).toBe(renderText(cols, r));
    expect(fieldedText(text, spans).split(FIELD_SEP)).toEqual(["Welder", "", "Likes night shifts."]);
    const twice = renderWithSpans(
      { template: "{city}: {city} {state}" },
      [
        { column: "city", weight: 1 },
        { column: "state", weight: 1 },
      ],
      row,
    );
    expect(twice.text).toBe("Gary: Gary IN");
    expect(twice.spans).toEqual([
      [0, 4],
      [11, 13],
    ]);
  });

  test("a row with every field empty renders to nothing (it is skipped)", () => {
    expect(renderWithSpans({ template }, fields, { primary_skill: "", city: null }).text).toBe("");
  });

  test("a separator inside a value does not shift the fields after it", () => {
    const r = { ...row, primary_skill: `Wel${FIELD_SEP}der` };
    const { text, spans } = renderWithSpans({ template }, fields, r);
    expect(splitFields(fieldedText(text, spans), 4)).toEqual(["Wel der", "Gary", "IN", "MIG and TIG, 6 years."]);
  });

  test("splitFields always gives n values", () => {
    expect(splitFields(`a${FIELD_SEP}b`, 3)).toEqual(["a", "b", ""]);
    expect(splitFields(`a${FIELD_SEP}b${FIELD_SEP}c`, 2)).toEqual(["a", "b c"]);
    expect(splitFields(`a${FIELD_SEP}b`, 1)).toEqual([`a${FIELD_SEP}b`]);
  });
});

describe("weights", () => {
  test("a field of a few words weighs 1; a long one sqrt(SHORT_FIELD_TERMS / its average terms); given weights win", () => {
    const long = Array.from({ length: 64 }, (_, i) => `word${i}`).join(" ");
    const sample = [
      { skill: "forklift operator", notes: long },
      { skill: "welder", notes: long },
      { skill: null, notes: "" },
    ];
    expect(defaultFields(["skill", "notes"], sample)).toEqual([
      { column: "skill", weight: 1 },
      { column: "notes", weight: Math.sqrt(SHORT_FIELD_TERMS / 64) },
    ]);
    expect(defaultFields(["skill", "notes"], sample, { notes: 0.7 })[1]).toEqual({ column: "notes", weight: 0.7 });
    // A column empty in every sampled row weighs 1 (nothing says it is long).
    expect(defaultFields(["other"], sample)).toEqual([{ column: "other", weight: 1 }]);
  });

  test("the vector is the weighted sum of the fields' unit vectors, made unit; empty fields add nothing", () => {
    const vecs: Record<string, number[]> = { a: [3, 0], b: [0, 10] };
    const v = mixFields(
      ["a", "b", ""],
      [
        { column: "x", weight: 1 },
        { column: "y", weight: 0.5 },
        { column: "z", weight: 9 },
      ],
      (s) => vecs[s]!,
    );
    const n = Math.hypot(1, 0.5);
    expect(v[0]).toBeCloseTo(1 / n, 12);
    expect(v[1]).toBeCloseTo(0.5 / n, 12);
  });
});

describe("stored form", () => {
  test("results never see the reserved keys; the lexical text is recovered from the spans", () => {
    const { text, spans } = renderWithSpans({ template }, fields, row);
    const stored = { city: "Gary", [TEXT_KEY]: text, [FIELDS_KEY]: spans };
    expect(storedDoc(stored)).toEqual({ text, metadata: { city: "Gary" } });
    expect(lexicalTextOf(stored)).toBe(fieldedText(text, spans));
    // A corpus built before fields stores no spans: its text is read whole; damaged spans too.
    expect(lexicalTextOf({ [TEXT_KEY]: text })).toBe(text);
    expect(lexicalTextOf({ [TEXT_KEY]: text, [FIELDS_KEY]: [[0, 999]] })).toBe(text);
    expect(lexicalTextOf({ city: "Gary" })).toBeUndefined();
  });
});
