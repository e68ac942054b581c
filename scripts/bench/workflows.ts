// Workflow runner benchmark, in-process (the whole lakehouse, fsync on as by default, the observer
// receiving every event and iteration):
//   1. Runner overhead: a 10-step DAG of transform steps (one root, eight in parallel, one join),
//      run --runs times with --concurrency at once → runs/s, and the per-step overhead: the wall
//      time per step (one event loop does all the work) minus the step's own work (the same
//      transform called directly). Target ≤ 1 ms per step.
//   2. One run at a time: p50 / p95 latency of the same DAG.
//   3. The agent loop end to end (test/workflows/loop.test.ts's place-candidates: matrix.search →
//      relevance → gate → observer.review with SQL evidence → playbook → pathway.add → audit →
//      report) over a --workers-row corpus: p50 / p95 of --loops runs one after the other.
//
//   bun scripts/bench/workflows.ts [--runs 1000] [--concurrency 8] [--loops 50] [--workers 2000]
import { parseArgs } from "node:util";
import { transformValue } from "../../src/workflows/modes/transform.ts";
import { buildCorpus, WORKERS_CORPUS } from "../../test/matrix/fixtures.ts";
import { testLakehouse } from "../../test/support/app.ts";
import { ingestOk } from "../../test/support/ingest.ts";
import { toCsv, workers } from "../../test/support/staffing.ts";
import { machineLine, percentile, writeSection } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "8" },
    loops: { type: "string", default: "50" },
    workers: { type: "string", default: "2000" },
  },
});
const RUNS = Number(args.runs);
const CONC = Number(args.concurrency);
const LOOPS = Number(args.loops);
const WORKERS = Number(args.workers);

const ITEMS = Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, city: ["Gary", "Joliet", "Aurora"][i % 3], rate: 15 + (i % 10) }));
const DAG = {
  inputs: { items: "array" },
  steps: [
    { id: "root", mode: "transform", input: { from: "{{inputs.items}}", pick: ["id", "city", "rate"] } },
    ...Array.from({ length: 8 }, (_, i) => ({
      id: `b${i}`,
      mode: "transform",
      needs: ["root"],
      input: { from: "{{steps.root.output}}", filter: { rate: { $gte: 15 + i } }, limit: 5, pick: ["id", "rate"] },
    })),
    { id: "join", mode: "transform", needs: Array.from({ length: 8 }, (_, i) => `b${i}`), input: { from: "{{steps.b0.output}}", count: true } },
  ],
};
const STEPS = DAG.steps.length;

/** The steps' own work: the same transforms, called directly. */
function ownWorkMs(): number {
  const n = 2000;
  const t0 = performance.now();
  for (let r = 0; r < n; r++) {
    const root = transformValue({ from: ITEMS, pick: ["id", "city", "rate"] }) as unknown[];
    for (let i = 0; i < 8; i++) transformValue({ from: root, filter: { rate: { $gte: 15 + i } }, limit: 5, pick: ["id", "rate"] });
    transformValue({ from: root, count: true });
  }
  return (performance.now() - t0) / (n * STEPS);
}

const lh = await testLakehouse({ server: { check_results: false }, workflows: { max_running: CONC, keep_runs: 100_000 } });
const svc = lh.workflows.service;
const identity = { kind: "internal" as const };
const finished = (id: string) => !["queued", "running"].includes(svc.get(id).status);

async function runOne(workflow: unknown, inputs: Record<string, unknown>): Promise<number> {
  const t0 = performance.now();
  const run = await svc.start(workflow as never, inputs, identity);
  while (!finished(run.id)) await new Promise((r) => setImmediate(r));
  const status = svc.get(run.id).status;
  if (status !== "succeeded") throw new Error(`run ${run.id} ${status}: ${JSON.stringify(svc.get(run.id).error)}`);
  return performance.now() - t0;
}

// Warm-up.
for (let i = 0; i < 20; i++) await runOne(DAG, { items: ITEMS });
const own = ownWorkMs();

// 1. Throughput with CONC at once.
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONC }, async () => {
    while (next < RUNS) {
      next++;
      await runOne(DAG, { items: ITEMS });
    }
  }),
);
const wall = performance.now() - t0;
const perStep = wall / (RUNS * STEPS);
const overhead = perStep - own;

// 2. One at a time.
const single: number[] = [];
for (let i = 0; i < 200; i++) single.push(await runOne(DAG, { items: ITEMS }));
single.sort((a, b) => a - b);

// 3. The agent loop.
await ingestOk(lh, "workers", toCsv(workers(WORKERS) as never));
await buildCorpus(lh as never, WORKERS_CORPUS);
const { placeCandidates } = await import("../../test/workflows/place-candidates.ts");
await svc.save("place-candidates", placeCandidates("{{steps.relevant.output.results[0].id}}") as never, undefined, identity);
const loop: number[] = [];
for (let i = 0; i < LOOPS; i++) {
  loop.push(await runOne("place-candidates", { query: `welder in Gary with second shift experience ${i % 5}`, state: "IN", skill: "Welder" }));
}
loop.sort((a, b) => a - b);
await lh.close();

const f = (x: number, d = 2) => x.toFixed(d);
const rows = [
  `| ${RUNS} runs of a 10-step transform DAG, ${CONC} at once | ${f((RUNS / wall) * 1000, 0)} runs/s (${f(wall / 1000)} s) |  |`,
  `| wall time per step (one event loop) | ${f(perStep, 3)} ms |  |`,
  `| the step's own work (the transform called directly) | ${f(own, 3)} ms |  |`,
  `| runner overhead per step | ${f(overhead, 3)} ms | ≤ 1 ms |`,
  `| one run at a time, p50 / p95 | ${f(percentile(single, 50))} / ${f(percentile(single, 95))} ms |  |`,
  `| agent loop (8 steps, ${WORKERS}-row corpus), p50 / p95 of ${LOOPS} | ${f(percentile(loop, 50))} / ${f(percentile(loop, 95))} ms |  |`,
];
const md = `## Workflows: runner overhead and the agent loop

\`bun scripts/bench/workflows.ts --runs ${RUNS} --concurrency ${CONC} --loops ${LOOPS} --workers ${WORKERS}\` — ${machineLine()}. In-process
(the whole lakehouse), \`storage.fs.fsync = true\` (every step transition group-committed to the run log), the observer
receiving every run and step event and a witness iteration per step.

| what | figure | target |
|---|---|---|
${rows.join("\n")}`;
console.log(md);
writeSection("workflows", md);
