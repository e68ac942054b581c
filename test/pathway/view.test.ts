// The SQL view's files, read by a real DuckDB with the SELECT the module publishes: the view
// follows writes (update, retire, revise, replay), and FORGET reaches the files.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Lakehouse } from "../../src/app.ts";
import type { Config } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/log.ts";
import { TraceView } from "../../src/pathway/view.ts";
import { testLakehouse } from "../support/app.ts";
import { tempDir } from "../support/tmp.ts";
import { add, req } from "./helpers.ts";

let lh: Lakehouse & { config: Config };
let view: TraceView;
const dir = tempDir("lh-pathway-view-");
let select = "";
const published: string[] = [];

beforeAll(async () => {
  lh = await testLakehouse();
  const port = {
    viewDir: () => dir,
    publishView: async (name: string, sql: string) => {
      published.push(name);
      select = sql;
    },
    dropView: async () => {},
  };
  view = new TraceView(port, lh.pathway.memory, { ...lh.config.pathway, view_refresh_ms: 60_000 }, silentLogger);
  await view.open();
});
afterAll(async () => {
  await view.close();
  await lh.close();
});

async function sql(query: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(query.replaceAll("pathway_traces", `(${select})`));
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

test("the view follows writes: adds, updates, retires, revises and replays", async () => {
  expect(published).toEqual(["pathway_traces"]);
  const a = (await add(lh, { user_id: "v", kind: "preference", content: "likes Joliet", data: { city: "Joliet" }, tags: ["city"] })).body.trace;
  const b = (await add(lh, { user_id: "v", kind: "fact", content: "certified forklift" })).body.trace;
  await add(lh, { user_id: "v", kind: "fact", content: "certified forklift" });
  await view.refresh(false);
  expect(await sql("select kind, count(*)::INT n from pathway_traces group by kind order by kind")).toEqual([
    { kind: "fact", n: 1 },
    { kind: "preference", n: 1 },
  ]);
  expect(await sql(`select replay_count::INT r from pathway_traces where uid = '${b.uid}'`)).toEqual([{ r: 1 }]);
  expect(await sql("select uid from pathway_traces where data->>'city' = 'Joliet' and created_at > now() - interval 7 day")).toEqual([{ uid: a.uid }]);

  await req(lh, "PUT", `/traces/${a.uid}`, { expected_version: 1, content: "likes Aurora", data: { city: "Aurora" } });
  await req(lh, "POST", `/traces/${b.uid}/retire`, { expected_version: 1 });
  const c = (await req(lh, "POST", `/traces/${a.uid}/revise`, { content: "likes Naperville" })).body.trace;
  await view.refresh(false);
  const rows = await sql("select uid, content, version::INT v, retired_at is not null retired, superseded_by from pathway_traces order by created_at, uid");
  expect(rows).toEqual(
    expect.arrayContaining([
      { uid: a.uid, content: "likes Aurora", v: 3, retired: false, superseded_by: c.uid },
      { uid: b.uid, content: "certified forklift", v: 2, retired: true, superseded_by: null },
      { uid: c.uid, content: "likes Naperville", v: 1, retired: false, superseded_by: null },
    ]),
  );
  expect(rows).toHaveLength(3);
  expect(await sql(`select tags from pathway_traces where uid = '${c.uid}'`)).toEqual([{ tags: ["city"] }]);
});

test("FORGET reaches the view's files", async () => {
  const secret = "home address 12 Elm Street";
  const { uid } = (await add(lh, { user_id: "v", kind: "fact", content: secret })).body.trace;
  await view.refresh(false);
  expect(await sql(`select count(*)::INT n from pathway_traces where uid = '${uid}'`)).toEqual([{ n: 1 }]);
  await req(lh, "DELETE", `/traces/${uid}`);
  await view.refresh(false);
  expect(await sql(`select count(*)::INT n from pathway_traces where uid = '${uid}'`)).toEqual([{ n: 0 }]);
  for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), "utf8")).not.toContain(secret);
});

test("pathway_traces through POST /v1/sql, read-only like every view, and refreshed by the module", async () => {
  const uid = (await add(lh, { user_id: "sqlv", kind: "preference", content: "prefers Joliet nights" })).body.trace.uid;
  await lh.pathway.refreshView();
  const res = await lh.app.fetch(
    new Request("http://localhost/v1/sql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql: "select uid, kind, content from pathway_traces where user_id = 'sqlv'" }),
    }),
  );
  expect(res.status).toBe(200);
  expect(((await res.json()) as { rows: unknown[][] }).rows).toEqual([[uid, "preference", "prefers Joliet nights"]]);
  // A dataset may not take the view's name.
  const taken = await lh.app.fetch(
    new Request("http://localhost/v1/ingest/pathway_traces", { method: "POST", headers: { "content-type": "text/csv" }, body: "a\n1\n" }),
  );
  expect(taken.status).toBe(409);
});
