// Reviews over HTTP: SQL truth accept and reject for each `expect` form; fail-safe — a failing SQL
// check, a SQL timeout, an unknown rule, a missing dataset, a malformed expectation, a verdict
// store that throws, an internal error — is cycle + degraded, never accept; input invalid on its
// face is 400; every verdict is an event, queryable in SQL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { RegexRunner } from "../../src/observer/regex.ts";
import { type ReviewDeps, review } from "../../src/observer/review.ts";
import { testLakehouse } from "../support/app.ts";
import { ingestOk } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { get, reviewOf } from "./helpers.ts";

let lh: Lakehouse;
beforeAll(async () => {
  lh = await testLakehouse({ observer: { review_sql_timeout_ms: 1500 } });
  const csv = "id,state,rate\n1,IL,18.5\n2,IL,20\n3,MA,25\n4,NY,30\n";
  await ingestOk(lh, "workers", csv, { type: "csv" });
});
afterAll(async () => {
  await lh.close();
});

const sqlCase = (sql: string, expect: unknown, extra: Record<string, unknown> = {}) => ({ claim: { note: "c" }, evidence: [{ sql, expect, ...extra }] });

describe("SQL truth", () => {
  const cases: [string, ReturnType<typeof sqlCase>, "accept" | "reject"][] = [
    ["scalar number", sqlCase("select count(*) from workers", 4), "accept"],
    ["scalar number wrong", sqlCase("select count(*) from workers", 5), "reject"],
    ["scalar with tolerance", sqlCase("select avg(rate) from workers", 23.4, { tolerance: 0.1 }), "accept"],
    ["scalar outside tolerance", sqlCase("select avg(rate) from workers", 23, { tolerance: 0.1 }), "reject"],
    ["scalar string", sqlCase("select state from workers where id = ?", "MA", { params: [3] }), "accept"],
    ["scalar string wrong", sqlCase("select state from workers where id = ?", "IL", { params: [3] }), "reject"],
    ["rows", sqlCase("select * from workers where state = 'IL'", { rows: 2 }), "accept"],
    ["rows wrong", sqlCase("select * from workers where state = 'IL'", { rows: 3 }), "reject"],
    ["values as a set", sqlCase("select distinct state from workers", { values: ["NY", "IL", "MA"] }), "accept"],
    ["values missing one", sqlCase("select distinct state from workers", { values: ["IL", "MA"] }), "reject"],
    ["values numeric", sqlCase("select id from workers order by id desc", { values: [1, 2, 3, 4] }), "accept"],
    ["range", sqlCase("select max(rate) from workers", { min: 25, max: 30 }), "accept"],
    ["range below", sqlCase("select min(rate) from workers", { min: 19 }), "reject"],
  ];
  for (const [name, body, verdict] of cases) {
    test(`${name} → ${verdict}`, async () => {
      const r = await reviewOf(lh, body);
      expect(r.status).toBe(200);
      expect(r.body.verdict).toBe(verdict);
      expect(r.body.degraded).toBe(false);
      expect(r.body.reasons[0].check).toBe("sql[0]");
    });
  }

  test("rules and evidence together: accept needs all; one failing rule rejects", async () => {
    const body = {
      claim: { workers: 4, state: "IL" },
      rules: [
        { type: "field_equals", path: "state", value: "IL" },
        { type: "field_greater", path: "workers", value: 3 },
      ],
      evidence: [{ sql: "select count(*) from workers", expect: 4 }],
    };
    expect((await reviewOf(lh, body)).body.verdict).toBe("accept");
    const bad = await reviewOf(lh, { ...body, rules: [...body.rules, { type: "field_less", path: "workers", value: 4 }] });
    expect(bad.body.verdict).toBe("reject");
    expect(bad.body.reasons.filter((r: any) => r.outcome === "fail")).toHaveLength(1);
  });
});

describe("fail-safe: never accept what could not be checked", () => {
  const passingRule = { type: "always" };
  const cases: [string, unknown, string][] = [
    ["a failing SQL check", { claim: 1, rules: [passingRule], evidence: [{ sql: "select nonsense from", expect: 1 }] }, "SQL"],
    ["a missing dataset", { claim: 1, rules: [passingRule], evidence: [{ sql: "select count(*) from no_such_dataset", expect: 0 }] }, "no_such_dataset"],
    ["a SQL timeout", { claim: 1, rules: [passingRule], evidence: [{ sql: "select sum(i * i) from range(10000000000) t(i)", expect: 1 }] }, "timeout"],
    ["a writing statement", { claim: 1, rules: [passingRule], evidence: [{ sql: "delete from workers", expect: 0 }] }, "SQL"],
    ["an unknown rule", { claim: { a: 1 }, rules: [passingRule, { type: "field_vibes", path: "a" }] }, "unknown rule type"],
    ["a malformed expectation", { claim: 1, rules: [passingRule], evidence: [{ sql: "select 1", expect: { rows: -1 } }] }, "malformed expectation"],
    [
      "an expectation of no known form",
      { claim: 1, rules: [passingRule], evidence: [{ sql: "select 1", expect: { between: [1, 2] } }] },
      "malformed expectation",
    ],
    [
      "a result of the wrong shape",
      { claim: 1, rules: [passingRule], evidence: [{ sql: "select id, state from workers", expect: 1 }] },
      "one row of one column",
    ],
    ["a regex over its time budget", { claim: { s: "a".repeat(8000) }, rules: [passingRule, { type: "regex", path: "s", pattern: "a*a*a*b" }] }, "budget"],
  ];
  for (const [name, body, says] of cases) {
    test(`${name} → cycle, degraded`, async () => {
      const r = await reviewOf(lh, body);
      expect(r.status).toBe(200);
      expect(r.body.verdict).toBe("cycle");
      expect(r.body.degraded).toBe(true);
      const errors = r.body.reasons.filter((x: any) => x.outcome === "error");
      expect(errors.length).toBeGreaterThan(0);
      expect(JSON.stringify(errors)).toContain(says);
    });
  }

  test("a definite failure beside an unchecked item is reject, still degraded", async () => {
    const r = await reviewOf(lh, { claim: { a: 1 }, rules: [{ type: "field_equals", path: "a", value: 2 }, { type: "nope" }] });
    expect(r.body).toMatchObject({ verdict: "reject", degraded: true });
  });

  const deps = (over: Partial<ReviewDeps>): ReviewDeps => ({
    sql: { query: async () => ({ columns: [{ name: "n", type: "BIGINT" }], rows: [[1]], row_count: 1, truncated: false }) },
    regex: new RegexRunner(),
    limits: { timeoutMs: 1000, maxRows: 100 },
    record: async () => 1,
    ...over,
  });
  const body = { claim: { a: 1 }, rules: [{ type: "field_equals", path: "a", value: 1 }], evidence: [{ sql: "select 1", expect: 1 }] };

  test("the same review accepts with working dependencies (the control)", async () => {
    expect((await review(deps({}), body)).verdict).toBe("accept");
  });

  test("a verdict store that throws → cycle (the verdict is not given unrecorded)", async () => {
    const r = await review(
      deps({
        record: async () => {
          throw new Error("disk on fire");
        },
      }),
      body,
    );
    expect(r).toMatchObject({ verdict: "cycle", degraded: true });
    expect(JSON.stringify(r.reasons)).toContain("could not be stored");
  });

  test("a SQL port that throws something unexpected → cycle, and no internal detail leaks", async () => {
    const r = await review(
      deps({
        sql: {
          query: async () => {
            throw new Error("/secret/path/x.parquet: EIO");
          },
        },
      }),
      body,
    );
    expect(r).toMatchObject({ verdict: "cycle", degraded: true });
    expect(JSON.stringify(r.reasons)).not.toContain("/secret");
  });

  test("an exception inside the evaluation itself → cycle", async () => {
    const evil = {
      claim: { a: 1 },
      rules: [
        {
          type: "field_equals",
          get path(): string {
            throw new Error("boom");
          },
          value: 1,
        },
      ],
    };
    expect(await review(deps({}), evil as never)).toMatchObject({ verdict: "cycle", degraded: true });
  });
});

describe("input invalid on its face is 400 before any evaluation", () => {
  const cases: [string, unknown][] = [
    ["no claim", { rules: [{ type: "always" }] }],
    ["nothing to check", { claim: 1 }],
    ["rules not an array", { claim: 1, rules: { type: "always" } }],
    ["rule type not a string", { claim: 1, rules: [{ type: 5 }] }],
    ["evidence sql missing", { claim: 1, evidence: [{ expect: 1 }] }],
    ["evidence expect missing", { claim: 1, evidence: [{ sql: "select 1" }] }],
    ["an unknown field", { claim: 1, rules: [{ type: "always" }], trust_me: true }],
  ];
  for (const [name, body] of cases) {
    test(name, async () => {
      const before = (await get(lh, "/stats")).by_kind.verdict ?? 0;
      const r = await reviewOf(lh, body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("validation_failed");
      expect((await get(lh, "/stats")).by_kind.verdict ?? 0).toBe(before);
    });
  }

  test("a body that is not JSON is 400", async () => {
    const res = await lh.app.fetch(
      new Request("http://localhost/v1/observer/review", { method: "POST", headers: { "content-type": "application/json" }, body: "{claim:" }),
      { ip: "127.0.0.1" },
    );
    expect(res.status).toBe(400);
  });
});

test("every verdict is an event with input and output hashes, queryable in SQL", async () => {
  const r = await reviewOf(lh, { claim: { x: 1 }, rules: [{ type: "field_equals", path: "x", value: 1 }], run_id: "trail-1" });
  expect(r.body.verdict).toBe("accept");
  const page = await get(lh, "/events?source=observer&kind=verdict&run_id=trail-1");
  expect(page.events).toHaveLength(1);
  const p = page.events[0].payload;
  expect(page.events[0].id).toBe(r.body.event_id);
  expect(p).toMatchObject({ verdict: "accept", degraded: false, claim: { x: 1 } });
  expect(p.input_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(p.output_hash).toMatch(/^[0-9a-f]{64}$/);
  // The same input hashes the same whatever the key order.
  const again = await reviewOf(lh, { rules: [{ value: 1, path: "x", type: "field_equals" }], claim: { x: 1 }, run_id: "trail-1" });
  const both = await get(lh, "/events?kind=verdict&run_id=trail-1");
  expect(both.events[0].payload.input_hash).toBe(p.input_hash);
  expect(again.body.verdict).toBe("accept");
  await lh.observer.refreshView();
  const trail = await rows(lh, "select payload->>'verdict', count(*) from observer_events where kind = 'verdict' and run_id = 'trail-1' group by 1");
  expect(trail).toEqual([["accept", 2]]);
});
