// The labelled set behind the choice of the default fusion (docs/matrix.md records the figures):
// two corpora on different raw scales; for each query each corpus holds some graded relevant
// documents or none at all, among unrelated ones drawn from the corpus's background.
import { expect, test } from "bun:test";
import { type Calibration, type CorpusHit, type Fused, fuse } from "../../src/matrix/fusion.ts";
import { rng } from "../support/random.ts";

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

interface Scale {
  mean: number;
  std: number;
  /** Probability that the corpus holds anything relevant to a query. */
  pRelevant: number;
}

const CORPORA: Record<string, Scale> = {
  resumes: { mean: 0.74, std: 0.02, pRelevant: 0.6 },
  placements: { mean: 0.12, std: 0.07, pRelevant: 0.5 },
};

function labelledSet(seed: number, queries: number, pOverride?: number) {
  const rand = rng(seed);
  const set: { lists: Map<string, CorpusHit[]>; grades: Map<string, number> }[] = [];
  for (let q = 0; q < queries; q++) {
    const lists = new Map<string, CorpusHit[]>();
    const grades = new Map<string, number>();
    for (const [corpus, sc] of Object.entries(CORPORA)) {
      const hits: CorpusHit[] = [];
      for (let i = 0; i < 300; i++) hits.push({ id: `${corpus}-n${i}`, score: sc.mean + sc.std * normal(rand), metadata: {} });
      if (rand() < (pOverride ?? sc.pRelevant)) {
        const n = 1 + Math.floor(rand() * 5);
        for (let i = 0; i < n; i++) {
          const grade = rand() < 0.4 ? 2 : 1;
          const z = 1.5 + 1.5 * grade + normal(rand);
          const id = `${corpus}-r${i}`;
          hits.push({ id, score: sc.mean + sc.std * z, metadata: {} });
          grades.set(`${corpus}/${id}`, grade);
        }
      }
      lists.set(corpus, hits.sort((a, b) => b.score - a.score).slice(0, 50));
    }
    if (grades.size > 0) set.push({ lists, grades });
  }
  return set;
}

/** A corpus's background as the build estimates it: similarities of unrelated pairs, sampled. */
function sampledCalibration(seed: number): Record<string, Calibration> {
  const rand = rng(seed);
  const out: Record<string, Calibration> = {};
  for (const [corpus, sc] of Object.entries(CORPORA)) {
    const xs = Array.from({ length: 2000 }, () => sc.mean + sc.std * normal(rand));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    out[corpus] = { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
  }
  return out;
}

function ndcg10(ranked: { corpus: string; id: string }[], grades: Map<string, number>): number {
  const gain = (g: number) => 2 ** g - 1;
  const dcg = ranked.slice(0, 10).reduce((a, r, i) => a + gain(grades.get(`${r.corpus}/${r.id}`) ?? 0) / Math.log2(i + 2), 0);
  const ideal = [...grades.values()]
    .sort((a, b) => b - a)
    .slice(0, 10)
    .reduce((a, g, i) => a + gain(g) / Math.log2(i + 2), 0);
  return dcg / ideal;
}

function evaluate(set: ReturnType<typeof labelledSet>, calibration: Record<string, Calibration>) {
  const methods: Record<string, (lists: Map<string, CorpusHit[]>) => { corpus: string; id: string }[]> = {
    raw: (lists) => [...lists].flatMap(([corpus, hs]) => hs.map((h) => ({ corpus, id: h.id, score: h.score }))).sort((a, b) => b.score - a.score),
    rrf_k60: (lists) => fuse(lists, { method: "rrf", rrfK: 60 }),
    self_calibrated: (lists) => fuse(lists, { method: "calibrated", rrfK: 60 }),
    calibrated: (lists) => fuse(lists, { method: "calibrated", rrfK: 60, calibration }),
  };
  const out: Record<string, number> = {};
  for (const [name, rank] of Object.entries(methods)) {
    out[name] = set.reduce((a, { lists, grades }) => a + ndcg10(rank(lists) as Fused[], grades), 0) / set.length;
  }
  return out;
}

test("calibrated fusion ranks the labelled set better than RRF and raw scores", () => {
  const calibration = sampledCalibration(7);
  const mixed = evaluate(labelledSet(42, 400), calibration);
  const allRelevant = evaluate(labelledSet(43, 400, 1), calibration);
  console.log("nDCG@10, corpora sometimes without relevant documents:", fmt(mixed));
  console.log("nDCG@10, both corpora always hold relevant documents:", fmt(allRelevant));
  expect(mixed.calibrated).toBeGreaterThan(mixed.rrf_k60!);
  expect(mixed.calibrated).toBeGreaterThan(mixed.raw!);
  expect(mixed.calibrated).toBeGreaterThan(mixed.self_calibrated!);
  expect(allRelevant.calibrated).toBeGreaterThan(allRelevant.rrf_k60!);
});

const fmt = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k}=${v.toFixed(3)}`)
    .join(" ");
