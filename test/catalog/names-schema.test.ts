import { describe, expect, test } from "bun:test";
import { Catalog } from "../../src/catalog/catalog.ts";
import { Journal } from "../../src/catalog/journal.ts";
import { assertDatasetName, datasetId, uuidV5 } from "../../src/catalog/names.ts";
import { diffSchemas, fingerprint } from "../../src/catalog/schema.ts";
import { ValidationFailed } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { tempDir } from "../support/tmp.ts";

describe("dataset names", () => {
  test.each(["a", "People", "sales_2024", "x".repeat(63)])("accepts %p", (name) => {
    expect(() => assertDatasetName(name)).not.toThrow();
  });

  test.each(["", "1abc", "_a", "a-b", "a b", "x".repeat(64), 'foo"; DROP VIEW x; --', "a.b", "é", "../x"])("rejects %p", (name) => {
    expect(() => assertDatasetName(name)).toThrow(ValidationFailed);
  });
});

describe("dataset ids", () => {
  test("UUIDv5 matches the RFC 9562 example (www.example.com in the DNS namespace)", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  test("the same name always gives the same id; different names differ", () => {
    expect(datasetId("workers")).toBe(datasetId("workers"));
    expect(datasetId("workers")).not.toBe(datasetId("Workers"));
    expect(datasetId("workers")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("schema fingerprint", () => {
  const f = (name: string, type: string, nullable = true) => ({ name, type, nullable });

  test("is SHA-256 hex and ignores nullability", () => {
    expect(fingerprint([f("a", "BIGINT", true)])).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint([f("a", "BIGINT", true)])).toBe(fingerprint([f("a", "BIGINT", false)]));
  });

  test("depends on order, names and types", () => {
    const base = fingerprint([f("a", "BIGINT"), f("b", "VARCHAR")]);
    expect(fingerprint([f("b", "VARCHAR"), f("a", "BIGINT")])).not.toBe(base);
    expect(fingerprint([f("a", "BIGINT"), f("b", "DOUBLE")])).not.toBe(base);
    expect(fingerprint([f("a", "BIGINT"), f("c", "VARCHAR")])).not.toBe(base);
  });

  test("separators are unambiguous: shifting characters between parts changes the hash", () => {
    expect(fingerprint([f("ab", "C")])).not.toBe(fingerprint([f("a", "bC")]));
    expect(fingerprint([f("a,b", "X")])).not.toBe(fingerprint([f("a", "b,X")]));
    expect(fingerprint([f("a", "X"), f("b", "Y")])).not.toBe(fingerprint([f("a", "X;1:b;1:Y")]));
    expect(fingerprint([])).not.toBe(fingerprint([f("", "")]));
  });
});

describe("schema diff", () => {
  const f = (name: string, type: string) => ({ name, type, nullable: true });

  test("reports added, removed and retyped columns", () => {
    const d = diffSchemas([f("id", "BIGINT"), f("zip", "BIGINT"), f("old", "VARCHAR")], [f("id", "BIGINT"), f("zip", "VARCHAR"), f("new", "DATE")]);
    expect(d.added).toEqual([{ name: "new", type: "DATE" }]);
    expect(d.removed).toEqual([{ name: "old", type: "VARCHAR" }]);
    expect(d.retyped).toEqual([{ name: "zip", from: "BIGINT", to: "VARCHAR" }]);
    expect(d.reordered).toBe(false);
  });

  test("notices a reorder of the same columns", () => {
    const d = diffSchemas([f("a", "BIGINT"), f("b", "VARCHAR")], [f("b", "VARCHAR"), f("a", "BIGINT")]);
    expect(d).toEqual({ added: [], removed: [], retyped: [], reordered: true });
  });
});

test("a dataset cannot take the name of a SQL view a module publishes", async () => {
  const store = await FsObjectStore.open(tempDir());
  const catalog = await Catalog.open(store, await Journal.open(store, silentLogger), silentLogger);
  const fields = [{ name: "id", type: "BIGINT", nullable: false }];
  await expect(catalog.register("Pathway_Traces", fields)).rejects.toThrow("SQL view the lakehouse publishes");
  await expect(catalog.register("observer_events", fields)).rejects.toThrow("choose another dataset name");
  expect((await catalog.register("pathway_traces2", fields)).created).toBe(true);
});
