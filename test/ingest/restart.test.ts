// A real server process: ingest, kill -9, start again on the same data: catalog, views and journal
// come back, and journal sequence numbers keep counting.
import { expect, test } from "bun:test";
import { startChild } from "../support/child.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

test("a 2xx ingest survives kill -9; restart rehydrates catalog, views and journal", async () => {
  const root = tempDir("lh-restart-");
  const env = { LH_STORAGE_FS_ROOT: root };
  const first = await startChild(env);
  try {
    expect((await ingest(first.url, "people", "id,zip\n1,02134\n2,90210\n")).status).toBe(201);
    expect((await ingest(first.url, "people", "id,zip\n3,00501\n", { query: { mode: "append" } })).status).toBe(200);
    expect((await ingest(first.url, "other", "a\nx\n")).status).toBe(201);
  } finally {
    first.proc.kill("SIGKILL");
    await first.proc.exited;
  }

  const second = await startChild(env);
  try {
    expect(await rows(second.url, "SELECT id, zip FROM people ORDER BY id")).toEqual([
      [1, "02134"],
      [2, "90210"],
      [3, "00501"],
    ]);
    expect(await rows(second.url, "SELECT a FROM other")).toEqual([["x"]]);
    const names = (await json(call(second.url, "/v1/catalog/datasets"))).datasets.map((d: { name: string }) => d.name);
    expect(names).toEqual(["other", "people"]);
    expect((await call(second.url, "/v1/catalog/datasets/other", { method: "DELETE" })).status).toBe(200);
    const journal = await json(call(second.url, "/v1/journal?since=0"));
    expect(journal.entries.map((e: { seq: number; op: string; name: string }) => [e.seq, e.op, e.name])).toEqual([
      [1, "register", "people"],
      [2, "append", "people"],
      [3, "register", "other"],
      [4, "delete", "other"],
    ]);
    expect(journal.last_seq).toBe(4);
  } finally {
    second.proc.kill("SIGKILL");
    await second.proc.exited;
  }
}, 60_000);
