// The demo never touches the user's data (issue 11, point 6): `bun scripts/demo.ts --url` against a
// real server (child process) that holds the user's own `workers` and `candidates` datasets, a
// corpus named `workers`, a plain vector index and a playbook. Every object and log file that
// existed before is byte-identical afterwards, and what the user sees through the API (datasets,
// index counts, search results, playbooks) is the same; a second run refuses (exit 3) and changes
// nothing at all; `--reset` deletes exactly the demo's names and runs again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type Child, startChild } from "./support/child.ts";
import { call, json, post } from "./support/http.ts";
import { ingestOk } from "./support/ingest.ts";
import { toCsv, workers } from "./support/staffing.ts";
import { tempDir } from "./support/tmp.ts";

const DEMO = join(import.meta.dir, "..", "scripts", "demo.ts");
const root = tempDir("lh-demo-");
let child: Child;

/**
 * The observer module's own record of what happened on the server (every request's events): it
 * grows with any client, the demo included, and is no user data.
 */
const isObserverLog = (path: string) => path.includes("_observer/");

/**
 * Every stored object (the fs store's `objects/`) and every vector log (`wal/vectors/`) but the
 * observer's, path → sha-256 of its bytes: the user's data. (Caches and work folders beside them
 * are the process's own.)
 */
function files(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (!isObserverLog(relative(root, path))) out.set(relative(root, path), new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex"));
    }
  };
  for (const dir of ["objects", join("wal", "vectors")]) walk(join(root, dir));
  return out;
}

/**
 * A demo's own object or log: what it may add. (The pathway module's index is created by the first
 * memory ever written: on this server, the demo's agent loop writes it.)
 */
const isDemo = (path: string) => /demo[-_](workers|candidates)/.test(path) || path.includes("pathway-traces");

/** What the user sees through the API, for the user's names. */
async function userView() {
  const datasets = (await json(call(child.url, "/v1/catalog/datasets"))).datasets
    .filter((d: any) => !d.name.startsWith("demo_"))
    .map((d: any) => [d.name, d.row_count, d.version, d.fingerprint, d.objects]);
  const search = await json(post(child.url, "/v1/matrix/search", { query: "forklift operator in Joliet", corpora: ["workers"], k: 5 }));
  const people = await json(post(child.url, "/v1/vectors/indexes/people/search", { vector: [1, 0.5, 0.25, 0], k: 3 }));
  const indexes = (await json(call(child.url, "/v1/vectors/indexes"))).indexes.filter((i: any) => !isDemo(i.name)).map((i: any) => [i.name, i.count, i.seq]);
  const playbooks = (await json(call(child.url, "/v1/matrix/playbooks"))).playbooks.filter((p: any) => !p.corpus.startsWith("demo-"));
  // Scores to 4 places: the playbook boost sums over every playbook of the model, and the demo's
  // own playbook (on its own corpus) moves the sixth decimal of a boosted score, not the ranking.
  const ranked = search.results.map((r: any) => [r.id, Math.round(r.score * 1e4) / 1e4, r.metadata]);
  return { datasets, search: ranked, people, indexes, playbooks };
}

async function demo(...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(["bun", DEMO, "--url", child.url, "--workers", "300", "--candidates", "200", ...extra], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

beforeAll(async () => {
  child = await startChild({ LH_STORAGE_FS_ROOT: root });
  // The user's own data, under the names the demo used to overwrite.
  const mine = workers(60);
  await ingestOk(child.url, "workers", toCsv(mine as unknown as Record<string, unknown>[]));
  await ingestOk(child.url, "candidates", "candidate_id,name\nC1,Ada\nC2,Grace\n");
  const corpus = await post(child.url, "/v1/matrix/corpora", {
    name: "workers",
    dataset: "workers",
    id_column: "worker_id",
    template: "{primary_skill} in {city}, {state}: {resume_text}",
    metadata: ["primary_skill", "city", "state"],
  });
  expect(corpus.status).toBe(201);
  for (;;) {
    const st = await json(call(child.url, "/v1/matrix/corpora/workers"));
    if (st.state === "ready") break;
    if (st.state === "failed") throw new Error(`${st.error}\n${child.stdout().slice(-3000)}\n${child.stderr().slice(-2000)}`);
    await Bun.sleep(50);
  }
  expect((await post(child.url, "/v1/vectors/indexes", { name: "people", dim: 4, metric: "l2" })).status).toBe(201);
  const upsert = await post(child.url, "/v1/vectors/indexes/people/upsert", {
    items: Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, vector: [i, i / 2, i / 4, 1], metadata: { i } })),
  });
  expect(upsert.status).toBe(200);
  const pb = await post(child.url, "/v1/matrix/playbooks", { query: "forklift in Joliet", corpus: "workers", id: "W00000", outcome: "success" });
  expect(pb.status).toBe(201);
  // Scores from the graph and from the exact scan of pending items differ in the last float
  // digit: compare the user's searches with both indexes settled in their graphs.
  for (const index of ["matrix-workers", "people"]) {
    while ((await json(call(child.url, `/v1/vectors/indexes/${index}`))).pending > 0) await Bun.sleep(50);
  }
}, 60_000);

afterAll(async () => {
  child.proc.kill("SIGKILL");
  await child.proc.exited;
  rmSync(root, { recursive: true, force: true });
});

test("the demo runs beside the user's data and leaves every byte of it as it was; a second run refuses and changes nothing; --reset starts over", async () => {
  const before = files();
  // The user's data is in what is compared: catalog manifests, Parquet, the corpus, the indexes' logs and snapshots.
  for (const part of [
    "objects/_catalog/workers/",
    "objects/datasets/workers/",
    "objects/_matrix/corpora/workers",
    "wal/vectors/people/",
    "objects/_matrix/playbooks/",
  ])
    expect([...before.keys()].some((p) => p.startsWith(part))).toBe(true);
  const viewBefore = await userView();

  const first = await demo();
  expect(first.err).toBe("");
  expect(first.code).toBe(0);
  expect(first.out).toContain("demo_workers: 300 rows");
  expect(first.out).toContain("demo_candidates: 200 rows");
  const afterFirst = files();
  for (const [path, digest] of before) expect([path, afterFirst.get(path)]).toEqual([path, digest]);
  // What is new is the demo's own, plus the catalog journal's new entries.
  const added = [...afterFirst.keys()].filter((p) => !before.has(p));
  expect(added.filter((p) => !isDemo(p) && !p.includes("_journal/") && !p.includes("_matrix/playbooks/"))).toEqual([]);
  expect(await userView()).toEqual(viewBefore);
  const names = (await json(call(child.url, "/v1/catalog/datasets"))).datasets.map((d: any) => [d.name, d.row_count]);
  expect(names).toContainEqual(["demo_workers", 300]);
  expect(names).toContainEqual(["demo_candidates", 200]);
  const corpora = (await json(call(child.url, "/v1/matrix/corpora"))).corpora.map((c: any) => c.name).sort();
  expect(corpora).toEqual(["demo-candidates", "demo-workers", "workers"]);
  const demoPlaybooks = (await json(call(child.url, "/v1/matrix/playbooks"))).playbooks.filter((p: any) => p.corpus.startsWith("demo-"));
  // The recruiter's placement (chapter 4) and the agent loop's sealed one (chapter 6).
  expect(demoPlaybooks).toHaveLength(2);
  // The agent loop: a true claim accepted and remembered, a hallucinated one rejected, nothing sealed for it.
  expect(first.out).toMatch(/a true claim.*verdict .*accept/);
  expect(first.out).toMatch(/a hallucinated candidate.*verdict .*reject/);
  const memory = (await json(call(child.url, "/v1/pathway/traces?namespace=demo"))).traces;
  expect(memory).toHaveLength(1);

  // Again: its names are taken. It says which, exits 3, and writes nothing at all.
  const second = await demo();
  expect(second.code).toBe(3);
  for (const what of ["dataset demo_workers", "dataset demo_candidates", "corpus demo-workers", "corpus demo-candidates", "playbook ", "memory trace "])
    expect(second.err).toContain(what);
  expect(second.err).toContain("--reset");
  expect(files()).toEqual(afterFirst);

  // --reset: deletes exactly the demo's names and runs again; the user's bytes are still untouched.
  const third = await demo("--reset");
  expect(third.err).toBe("");
  expect(third.code).toBe(0);
  expect(third.out).toContain("deleted dataset demo_workers");
  expect(third.out).toContain("deleted corpus demo-workers");
  const afterReset = files();
  for (const [path, digest] of before) expect([path, afterReset.get(path)]).toEqual([path, digest]);
  expect(await userView()).toEqual(viewBefore);
  const again = (await json(call(child.url, "/v1/matrix/playbooks"))).playbooks.filter((p: any) => p.corpus.startsWith("demo-"));
  expect(again).toHaveLength(2);
  expect(again.map((p: any) => p.id)).not.toContain(demoPlaybooks[0].id);
  // The reset forgot the first run's memory; the new run recorded its own.
  const memoryAgain = (await json(call(child.url, "/v1/pathway/traces?namespace=demo"))).traces;
  expect(memoryAgain.map((t: any) => t.uid)).not.toContain(memory[0].uid);
  expect(memoryAgain).toHaveLength(1);
}, 180_000);
