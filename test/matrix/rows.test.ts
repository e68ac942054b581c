import { describe, expect, test } from "bun:test";
import { classifyRow, contentHash, pickMetadata, renderText, stableJson, templateColumns } from "../../src/matrix/rows.ts";

describe("rows", () => {
  const row = { primary_skill: "Forklift", city: "Joliet", state: "IL", resume_text: "Ten years on the floor.", rate: 21.5, cert: null };

  test("a template is filled from the row's columns", () => {
    const spec = { template: "{primary_skill} in {city}, {state}: {resume_text}" };
    expect(templateColumns(spec.template)).toEqual(["primary_skill", "city", "state", "resume_text"]);
    expect(renderText(spec, row)).toBe("Forklift in Joliet, IL: Ten years on the floor.");
  });

  test("a template whose columns are all empty yields no text", () => {
    expect(renderText({ template: "{cert} / {missing}" }, row)).toBe("");
    expect(() => templateColumns("no placeholders")).toThrow("names no {column}");
  });

  test("columns are joined with newlines, empty ones left out", () => {
    expect(renderText({ columns: ["primary_skill", "cert", "rate"] }, row)).toBe("Forklift\n21.5");
    expect(renderText({ columns: ["cert"] }, row)).toBe("");
  });

  test("metadata keeps the listed columns, nulls included", () => {
    expect(pickMetadata(["state", "rate", "cert", "absent"], row)).toEqual({ state: "IL", rate: 21.5, cert: null });
  });

  test("hashes tell new, changed and unchanged rows apart", () => {
    const h = (text: string, meta: object) => [contentHash(text), contentHash(stableJson(meta))] as const;
    expect(stableJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(classifyRow(undefined, h("x", {}))).toBe("new");
    expect(classifyRow(h("x", { a: 1 }), h("y", { a: 1 }))).toBe("text_changed");
    expect(classifyRow(h("x", { a: 1, b: 2 }), h("x", { b: 2, a: 2 }))).toBe("metadata_changed");
    expect(classifyRow(h("x", { a: 1, b: 2 }), h("x", { b: 2, a: 1 }))).toBe("unchanged");
  });
});
