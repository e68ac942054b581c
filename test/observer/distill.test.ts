// Distillation: accepted reviews become a queryable dataset, minus every example whose normalized
// text matches the holdout column exactly and, with near_duplicate, every example whose embedding
// is that similar to a holdout row; re-running with the same inputs answers "unchanged"; filters
// (time, sources, min_score); a holdout that cannot be read exports nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { claimTexts, normalizeText } from "../../src/observer/firewall.ts";
import { testLakehouse } from "../support/app.ts";
import { json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { O, reviewOf } from "./helpers.ts";

let lh: Lakehouse;
const holdoutQuestions = [
  "Which staffing agency placed the most forklift operators in Illinois last quarter?",
  "How many nurses in Boston have a reliability score above 0.9?",
];
const distill = (body: unknown) => json(post(lh, `${O}/distill`, body));
const accept = (claim: unknown, extra: Record<string, unknown> = {}) => reviewOf(lh, { claim, rules: [{ type: "always" }], ...extra });

beforeAll(async () => {
  lh = await testLakehouse();
  const ndjson = holdoutQuestions.map((q, i) => JSON.stringify({ id: i, question: q })).join("\n");
  await ingestOk(lh, "eval_holdout", ndjson, { type: "ndjson" });
  // Clean examples.
  await accept({ question: "Which warehouse shifts in Ohio are still open?", answer: "3" }, { source: "agent-a", score: 0.9 });
  await accept({ question: "List welders available next week in Texas", answer: "..." }, { source: "agent-b", score: 0.4 });
  // The same holdout question, other case, spacing and punctuation: an exact (normalized) match.
  await accept(
    { question: "  which STAFFING agency placed the most forklift operators in illinois, last quarter ", answer: "x" },
    { source: "agent-a", score: 0.95 },
  );
  // A near duplicate: one word changed.
  await accept({ question: "How many nurses in Boston have a reliability score above 0.8?", answer: "12" }, { source: "agent-a", score: 0.99 });
  // Not accepted: never exported.
  await reviewOf(lh, { claim: { question: "rejected one" }, rules: [{ type: "field_equals", path: "question", value: "other" }] });
  await reviewOf(lh, { claim: { question: "unchecked one" }, rules: [{ type: "no_such_rule" }] });
});
afterAll(async () => {
  await lh.close();
});

test("normalization and claim texts", () => {
  expect(normalizeText("  Hello,   WORLD!! ")).toBe("hello world");
  expect(normalizeText("ﬁle")).toBe("file");
  expect(claimTexts("plain")).toEqual(["plain"]);
  expect(claimTexts({ a: "x", b: [1, "y"], c: { d: "z" } })).toEqual(["x", "y", "z"]);
  expect(claimTexts({ q: { text: "t" } }, "q.text")).toEqual(["t"]);
});

describe("the firewall", () => {
  test("exact: the normalized holdout question is excluded; only accepted reviews are written; the dataset is queryable", async () => {
    const out = await distill({ name: "train_exact", holdout: { dataset: "eval_holdout", column: "question" } });
    expect(out).toMatchObject({ name: "train_exact", written: 3, excluded_exact: 1, excluded_near: 0, result: "created" });
    const got = await rows(lh, "select json_extract_string(claim, '$.question'), verdict from train_exact order by review_id");
    expect(got.map((r) => r[0])).toEqual([
      "Which warehouse shifts in Ohio are still open?",
      "List welders available next week in Texas",
      "How many nurses in Boston have a reliability score above 0.8?",
    ]);
    expect(got.every((r) => r[1] === "accept")).toBe(true);
  });

  test("near duplicate: an example at least min_similarity to a holdout row is excluded too", async () => {
    const out = await distill({
      name: "train_near",
      holdout: { dataset: "eval_holdout", column: "question" },
      near_duplicate: { min_similarity: 0.8 },
      text_path: "question",
    });
    expect(out).toMatchObject({ written: 2, excluded_exact: 1, excluded_near: 1 });
    const got = await rows(lh, "select json_extract_string(claim, '$.question') from train_near order by review_id");
    expect(got.flat()).toEqual(["Which warehouse shifts in Ohio are still open?", "List welders available next week in Texas"]);
  });

  test("re-running with the same inputs answers unchanged (deterministic bytes); new accepted reviews replace it", async () => {
    const body = { name: "train_rerun", holdout: { dataset: "eval_holdout", column: "question" } };
    expect((await distill(body)).result).toBe("created");
    expect((await distill(body)).result).toBe("unchanged");
    await accept({ question: "Who can start a night shift in Denver tomorrow?" });
    const third = await distill(body);
    expect(third).toMatchObject({ result: "replaced", written: 4 });
    expect(await rows(lh, "select count(*) from train_rerun")).toEqual([[4]]);
  });

  test("filters: sources, min_score, time", async () => {
    const h = { dataset: "eval_holdout", column: "question" };
    expect(await distill({ name: "train_src", holdout: h, sources: ["agent-b"] })).toMatchObject({ written: 1, excluded_exact: 0 });
    expect(await distill({ name: "train_score", holdout: h, min_score: 0.9 })).toMatchObject({ written: 2, excluded_exact: 1 });
    expect(await distill({ name: "train_none", holdout: h, until: "2000-01-01T00:00:00Z" })).toMatchObject({ written: 0, result: "empty" });
  });

  test("a holdout that cannot be read exports nothing; the export cannot replace its own holdout", async () => {
    const missing = await post(lh, `${O}/distill`, { name: "train_x", holdout: { dataset: "no_such", column: "q" } });
    expect([400, 404]).toContain(missing.status);
    const badColumn = await post(lh, `${O}/distill`, { name: "train_x", holdout: { dataset: "eval_holdout", column: "nope" } });
    expect(badColumn.status).toBe(400);
    expect(JSON.stringify(await badColumn.json())).toContain("nope");
    const self = await post(lh, `${O}/distill`, { name: "eval_holdout", holdout: { dataset: "eval_holdout", column: "question" } });
    expect(self.status).toBe(400);
    const listed = await json(lh.app.fetch(new Request("http://localhost/v1/catalog/datasets"), { ip: "127.0.0.1" }));
    expect(JSON.stringify(listed)).not.toContain("train_x");
  });
});
