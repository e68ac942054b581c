// Runs the labelled set (labelled-set.ts) against a real lakehouse in this process: generated
// workers are ingested, a corpus is built with the given embedding provider, and every query is
// searched over HTTP in each mode; nDCG@10 is averaged per mode, over all queries and over the
// literal and synonym ones apart. Used by scripts/eval-search.ts (the table in docs/matrix.md)
// and test/matrix/search-eval.test.ts. Keep it free of bun:test.
import { join } from "node:path";
import { testLakehouse } from "../../support/app.ts";
import { call, json, post } from "../../support/http.ts";
import { ingestOk } from "../../support/ingest.ts";
import { tempDir } from "../../support/tmp.ts";
import { EVAL_TEMPLATE, filterOf, type GroundTruth, gradesFor, LABELLED, type LabelledQuery, ndcgAt } from "./labelled-set.ts";

export type Mode = "vector" | "lexical" | "hybrid";

export interface EvalScores {
  all: number;
  literal: number;
  synonym: number;
  /** Per query, in LABELLED order. */
  perQuery: number[];
  /** The downgrade gate's tier per query, in LABELLED order. */
  tiers: ("small" | "strong")[];
}

/** Writes `rows` generated workers (scripts/datagen/gen_staffing.ts, seed 42) to a CSV; returns its path. */
export async function generateWorkers(rows: number): Promise<string> {
  const out = join(tempDir("lh-eval-"), "workers.csv");
  const gen = join(import.meta.dir, "..", "..", "..", "scripts", "datagen", "gen_staffing.ts");
  const p = Bun.spawn(["bun", gen, "--rows", String(rows), "--out", out, "--seed", "42"], { stderr: "ignore" });
  if ((await p.exited) !== 0) throw new Error("gen_staffing failed");
  return out;
}

/** One way of searching: a mode and any other search fields (e.g. lexical_weight). */
export interface Variant {
  name: string;
  mode: Mode;
  extra?: Record<string, unknown>;
}

export const MODES: readonly Variant[] = [
  { name: "vector", mode: "vector" },
  { name: "lexical", mode: "lexical" },
  { name: "hybrid", mode: "hybrid" },
];

/** Builds the corpus once with `provider` and scores every variant, by name. */
export async function evaluate(
  csvPath: string,
  provider: "hash" | "words",
  variants: readonly Variant[] = MODES,
  opts: { template?: string; queries?: readonly LabelledQuery[]; model?: string } = {},
): Promise<Record<string, EvalScores>> {
  const queries = opts.queries ?? LABELLED;
  const template = opts.template ?? EVAL_TEMPLATE;
  const lh = await testLakehouse({ embed: { provider }, sql: { max_rows: 100_000 } });
  try {
    await ingestOk(lh, "workers", Bun.file(csvPath));
    const res = await post(lh, "/v1/matrix/corpora", {
      name: "workers",
      dataset: "workers",
      id_column: "worker_id",
      template,
      metadata: ["primary_skill", "city", "state", "shift_preference", "hourly_rate"],
      ...(opts.model !== undefined ? { model: opts.model } : {}),
    });
    if (res.status !== 201) throw new Error(`build: ${res.status} ${await res.text()}`);
    await lh.matrix.corpora.settled("workers");
    let st = await json(call(lh, "/v1/matrix/corpora/workers"));
    if (st.state !== "ready") throw new Error(`build: ${JSON.stringify(st)}`);
    // Searched once the HNSW graph holds every row, as a corpus is searched most of its life.
    while (st.pending > 0) {
      await Bun.sleep(100);
      st = await json(call(lh, "/v1/matrix/corpora/workers"));
    }
    const truth = await json(
      post(lh, "/v1/sql", {
        sql: "SELECT CAST(worker_id AS VARCHAR), primary_skill, city, shift_preference, hourly_rate FROM workers",
        max_rows: 100_000,
      }),
    );
    const rows: GroundTruth[] = truth.rows.map((r: any[]) => ({
      id: r[0],
      primary_skill: r[1],
      city: r[2],
      shift_preference: r[3],
      hourly_rate: Number(r[4]),
    }));
    const out: Record<string, EvalScores> = {};
    for (const { name, mode, extra } of variants) {
      const perQuery: number[] = [];
      const tiers: ("small" | "strong")[] = [];
      for (const q of queries) {
        const body = { query: q.query, corpora: ["workers"], k: 10, mode, playbooks: false, filter: filterOf(q), ...extra };
        const r = await json(post(lh, "/v1/matrix/search", body));
        if (!Array.isArray(r.results)) throw new Error(`search: ${JSON.stringify(r)}`);
        tiers.push(r.gate.tier);
        perQuery.push(
          ndcgAt(
            10,
            r.results.map((x: any) => x.id),
            gradesFor(q, rows),
          ),
        );
      }
      const mean = (pick: (q: LabelledQuery) => boolean) => {
        const xs = perQuery.filter((_, i) => pick(queries[i]!));
        return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
      };
      out[name] = { all: mean(() => true), literal: mean((q) => !q.synonym), synonym: mean((q) => q.synonym), perQuery, tiers };
    }
    return out;
  } finally {
    await lh.close();
  }
}
