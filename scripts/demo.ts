#!/usr/bin/env bun
// The newcomer's first look at the matrix: generates staffing data, ingests it, builds two
// corpora with a progress bar, runs three searches, records a playbook outcome and shows the boost.
//
//   bun run demo                          # starts a server on a temporary data directory
//   bun run demo -- --url http://127.0.0.1:3110 [--token T] [--workers 3000] [--candidates 2000] [--reset]
//
// Against a running server it touches only its own names (DEMO below): datasets demo_workers and
// demo_candidates, corpora demo-workers and demo-candidates (indexes matrix-demo-*), and the
// playbooks it records on those corpora. If any of them exists it refuses (exit 3) and lists
// them; `--reset` deletes exactly those and runs again. It cannot tell its own earlier run from a
// user's edit to those names, so a second run refuses too (docs/matrix.md, "The demo").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a.startsWith("--")) args.set(a.slice(2), process.argv[i + 1]?.startsWith("--") === false ? process.argv[++i]! : "true");
}
const DEMO = {
  datasets: { workers: "demo_workers", candidates: "demo_candidates" },
  corpora: { workers: "demo-workers", candidates: "demo-candidates" },
  /** The pathway namespace the agent loop records its placements in. */
  namespace: "demo",
} as const;
const CORPORA: string[] = Object.values(DEMO.corpora);
const indexOf = (corpus: string) => `matrix-${corpus}`;
/** Exit status when a demo name is taken and --reset was not given. */
const REFUSED = 3;
const WORKERS = Number(args.get("workers") ?? 3000);
const CANDIDATES = Number(args.get("candidates") ?? 2000);
const token = args.get("token") ?? process.env.LH_AUTH_TOKEN ?? "";
const ROOT = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "lakehouse-demo-"));

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;

async function startServer(): Promise<{ url: string; stop: () => Promise<unknown> }> {
  const proc = Bun.spawn(["bun", join(ROOT, "src", "main.ts")], {
    env: { ...process.env, LH_STORAGE_FS_ROOT: join(work, "data"), LH_SERVER_BIND: "127.0.0.1:0", LH_SERVER_ACCESS_LOG: "false" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes('"lakehouse started"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server exited before it started");
    text += new TextDecoder().decode(value);
  }
  const line = text.split("\n").find((l) => l.includes('"lakehouse started"'))!;
  // Keep reading its log (unshown): a pipe nobody reads would fill, or break at its shutdown lines.
  void (async () => {
    while (!(await reader.read()).done) {}
  })();
  return {
    url: JSON.parse(line).listen,
    stop: () => {
      proc.kill("SIGTERM");
      return proc.exited;
    },
  };
}

const server = args.has("url") ? { url: args.get("url")!, stop: async () => {} } : await startServer();
const headers = (extra: Record<string, string> = {}) => ({ ...extra, ...(token ? { authorization: `Bearer ${token}` } : {}) });

function request(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: headers(body === undefined ? {} : { "content-type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await request(method, path, body);
  const out: any = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(out.error)}`);
  return out;
}

/** Whether `path` names something: 404 no; 200, or 503 for one that exists but failed to load, yes. */
async function exists(path: string): Promise<boolean> {
  const res = await request("GET", path);
  await res.body?.cancel();
  if (res.status === 404) return false;
  if (res.ok || res.status === 503) return true;
  throw new Error(`GET ${path} → ${res.status}`);
}

/** A server that is still opening its modules answers 503 "starting": wait for it. */
async function waitReady(): Promise<void> {
  for (let shown = false; ; ) {
    const res = await fetch(`${server.url}/health`, { headers: headers() });
    const body: any = await res.json();
    if (body.status !== "starting") return;
    if (!shown) console.log(dim("  the server is starting; waiting for it"));
    shown = true;
    await Bun.sleep(250);
  }
}

/** Everything under the demo's names that exists now, as "kind name" lines (what --reset deletes). */
async function taken(): Promise<{ what: string; remove: () => Promise<unknown> }[]> {
  const found: { what: string; remove: () => Promise<unknown> }[] = [];
  const { playbooks } = await api("GET", "/v1/matrix/playbooks");
  for (const p of playbooks as { id: string; corpus: string }[]) {
    if (CORPORA.includes(p.corpus)) found.push({ what: `playbook ${p.id} (corpus ${p.corpus})`, remove: () => api("DELETE", `/v1/matrix/playbooks/${p.id}`) });
  }
  for (const corpus of CORPORA) {
    // Deleting the corpus drops its index; an index left without its corpus is deleted on its own.
    if (await exists(`/v1/matrix/corpora/${corpus}`)) found.push({ what: `corpus ${corpus}`, remove: () => api("DELETE", `/v1/matrix/corpora/${corpus}`) });
    else if (await exists(`/v1/vectors/indexes/${indexOf(corpus)}`))
      found.push({ what: `vector index ${indexOf(corpus)}`, remove: () => api("DELETE", `/v1/vectors/indexes/${indexOf(corpus)}`) });
  }
  for (const name of Object.values(DEMO.datasets)) {
    if (await exists(`/v1/catalog/datasets/${name}`)) found.push({ what: `dataset ${name}`, remove: () => api("DELETE", `/v1/catalog/datasets/${name}`) });
  }
  const { traces } = await api("GET", `/v1/pathway/traces?namespace=${DEMO.namespace}&include_retired=true&include_superseded=true&limit=1000`);
  for (const t of traces as { uid: string }[])
    found.push({ what: `memory trace ${t.uid} (namespace ${DEMO.namespace})`, remove: () => api("DELETE", `/v1/pathway/traces/${t.uid}`) });
  return found;
}

async function generate(kind: "workers" | "candidates", rows: number): Promise<string> {
  const out = join(work, `${kind}.csv`);
  const p = Bun.spawn(["bun", join(ROOT, "scripts", "datagen", "gen_staffing.ts"), "--rows", String(rows), "--kind", kind, "--out", out], { stderr: "ignore" });
  if ((await p.exited) !== 0) throw new Error(`generating ${kind} failed`);
  return out;
}

async function ingest(name: string, file: string): Promise<void> {
  // No mode: create only. Were the name taken after the check above, this is a 409, never a replace.
  const res = await fetch(`${server.url}/v1/ingest/${name}`, {
    method: "POST",
    headers: headers({ "content-type": "text/csv" }),
    body: Bun.file(file),
  });
  const out: any = await res.json();
  if (!res.ok) throw new Error(`ingest ${name} → ${res.status}: ${JSON.stringify(out.error)}`);
  console.log(`  ${name}: ${out.rows} rows, ${out.columns} columns, ${out.ms} ms`);
}

function bar(done: number, total: number, width = 30): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

async function build(spec: Record<string, unknown>): Promise<void> {
  await api("POST", "/v1/matrix/corpora", spec);
  for (;;) {
    const st = await api("GET", `/v1/matrix/corpora/${spec.name}`);
    const eta = st.eta_s === null ? "?" : `${st.eta_s}s`;
    process.stdout.write(
      `\r  ${String(spec.name).padEnd(10)} ${bar(st.rows_done, st.rows_total)} ${st.rows_done}/${st.rows_total} rows  ${Math.round(st.rows_per_s)} rows/s  eta ${eta}   `,
    );
    if (st.state === "failed") throw new Error(`build of ${spec.name} failed: ${st.error}`);
    if (st.state === "ready") {
      console.log(`\n  ${dim(`${st.count} rows searchable, ${st.skipped_empty} empty skipped, ${st.pending} still entering the graph`)}`);
      return;
    }
    await Bun.sleep(150);
  }
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  rows.forEach((r, n) => {
    console.log(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join("  ")}`);
    if (n === 0) console.log(`  ${widths.map((w) => "-".repeat(w)).join("  ")}`);
  });
}

function show(res: any, highlight?: string): void {
  const rows = [["#", "corpus", "id", "score", "who", "skill", "where", "rate"]];
  res.results.forEach((r: any, i: number) => {
    const m = r.metadata;
    const who = m.name ?? `${m.first_name ?? ""} ${m.last_name ?? ""}`.trim();
    const mark = r.id === highlight ? " ◀" : "";
    rows.push([
      String(i + 1),
      r.corpus,
      `${r.id}${mark}`,
      r.score.toFixed(2),
      who,
      m.primary_skill ?? m.desired_role ?? "",
      `${m.city}, ${m.state}`,
      String(m.hourly_rate ?? m.expected_rate ?? ""),
    ]);
  });
  table(rows);
  const d = res.relevance.dropped;
  console.log(
    dim(
      `  gate: ${res.gate.tier} (${res.gate.reason}); dropped: ${d.min_score} below min score, ${d.required_terms} missing terms, ${d.gap} after a gap; ${res.timings.total_ms} ms`,
    ),
  );
}

async function search(title: string, body: Record<string, unknown>, highlight?: string): Promise<any> {
  console.log(`\n${bold(title)}\n  ${dim(JSON.stringify(body))}`);
  const res = await api("POST", "/v1/matrix/search", body);
  show(res, highlight);
  return res;
}

let status = 0;
try {
  console.log(bold(`lakehouse matrix demo — server ${server.url}`));
  await waitReady();
  const existing = await taken();
  if (existing.length > 0 && !args.has("reset")) {
    console.error(`the demo's names are taken on this server; it changes nothing and stops:\n${existing.map((e) => `  ${e.what}`).join("\n")}`);
    console.error("run it again with --reset to delete exactly these and start over (nothing else is touched)");
    status = REFUSED;
  } else {
    if (existing.length > 0) {
      console.log(`\n${bold("0. --reset: deleting the demo's earlier data")}`);
      for (const e of existing) {
        await e.remove();
        console.log(`  deleted ${e.what}`);
      }
    }
    await run();
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  status = 1;
} finally {
  await server.stop();
  // Against a running server the generated CSVs are all that is here: the data lives on the server.
  if (args.has("url")) rmSync(work, { recursive: true, force: true });
}
process.exit(status);

async function run(): Promise<void> {
  console.log(`\n${bold("1. Generate and ingest staffing data")}`);
  await ingest(DEMO.datasets.workers, await generate("workers", WORKERS));
  await ingest(DEMO.datasets.candidates, await generate("candidates", CANDIDATES));

  console.log(`\n${bold("2. Build two corpora")}`);
  await build({
    name: DEMO.corpora.workers,
    dataset: DEMO.datasets.workers,
    id_column: "worker_id",
    template: "{primary_skill} in {city}, {state}: {resume_text}",
    metadata: ["first_name", "last_name", "primary_skill", "city", "state", "hourly_rate", "available", "reliability_score", "shift_preference"],
  });
  await build({
    name: DEMO.corpora.candidates,
    dataset: DEMO.datasets.candidates,
    id_column: "candidate_id",
    template: "{desired_role} in {city}, {state}. Skills: {skills}. {notes}",
    metadata: ["name", "desired_role", "city", "state", "expected_rate", "status"],
  });

  const q1 = "forklift operator near Chicago IL";
  // Always the demo's own corpora: a search over "all" would show the server's other corpora too.
  const first = await search("3a. Both corpora, fused (calibrated), Illinois only", { query: q1, corpora: CORPORA, k: 8, filter: { state: "IL" } });
  await search("3b. Workers available now in Illinois under $22/h", {
    query: "forklift operator, available now",
    corpora: [DEMO.corpora.workers],
    k: 8,
    filter: { state: "IL", available: true, hourly_rate: { $lte: 22 } },
  });
  await search("3c. Welders: the word must appear, with a score-gap cut", {
    query: "certified welder MIG TIG",
    corpora: CORPORA,
    k: 8,
    relevance: { required_terms: ["welder"], gap: 1.5 },
  });

  const pick = first.results[Math.min(4, first.results.length - 1)];
  console.log(`\n${bold("4. A recruiter places")} ${pick.corpus}/${pick.id} ${bold("for that search: record the outcome")}`);
  await api("POST", "/v1/matrix/playbooks", {
    query: q1,
    corpus: pick.corpus,
    id: pick.id,
    outcome: "success",
    rating: 5,
    note: "placed; client asked for more like this",
  });
  await search(
    "5. The same kind of search again, phrased differently: the placed person rises",
    { query: "forklift operators near Chicago, IL", corpora: CORPORA, k: 8, filter: { state: "IL" } },
    pick.id,
  );
  // The agent loop claims a worker (its review checks the workers dataset): the first the search found.
  await agentLoop((first.results.find((r: { corpus: string }) => r.corpus === DEMO.corpora.workers) ?? pick).id);
  if (!args.has("url")) console.log(dim(`\ndata in ${work}`));
}

/**
 * The agent loop as one workflow run (src/workflows): search → relevance → gate → the observer
 * checks the claim against SQL truth → on accept the placement is sealed as a playbook and
 * recorded in pathway memory (namespace "demo") → the audit receipt. The run is inline (no saved
 * definition), so the demo leaves nothing but its own playbook, traces and events behind.
 */
function placeCandidates(claim: string) {
  const corpus = DEMO.corpora.workers;
  return {
    inputs: { query: "string", state: "string", skill: "string" },
    steps: [
      { id: "search", mode: "matrix.search", input: { query: "{{inputs.query}}", corpora: [corpus], k: 10, filter: { state: "{{inputs.state}}" } } },
      {
        id: "relevant",
        mode: "matrix.relevance",
        needs: ["search"],
        input: { results: "{{steps.search.output.results}}", required_terms: ["{{inputs.skill}}"] },
      },
      { id: "gate", mode: "matrix.gate", needs: ["relevant"], input: { results: "{{steps.relevant.output.results}}", corpora: [corpus] } },
      {
        id: "review",
        mode: "observer.review",
        needs: ["relevant"],
        input: {
          claim: { worker_id: claim, skill: "{{inputs.skill}}", state: "{{inputs.state}}" },
          evidence: [
            {
              sql: `select count(*) from ${DEMO.datasets.workers} where worker_id::VARCHAR = ? and primary_skill = ? and state = ?`,
              params: [claim, "{{inputs.skill}}", "{{inputs.state}}"],
              expect: 1,
            },
          ],
          source: "demo",
        },
      },
      {
        id: "seal",
        mode: "matrix.playbook",
        needs: ["review"],
        when: "steps.review.output.verdict = accept",
        input: { query: "{{inputs.query}}", corpus, id: claim, outcome: "success", note: "sealed by the demo's agent loop" },
      },
      {
        id: "learn",
        mode: "pathway.add",
        needs: ["seal", "gate"],
        input: {
          namespace: DEMO.namespace,
          kind: "placement",
          content: "{{inputs.skill}} placed in {{inputs.state}}: worker {{steps.seal.output.item_id}}",
          tags: ["placement"],
        },
      },
      { id: "receipt", mode: "pathway.audit", needs: ["learn"], input: { uid: "{{steps.learn.output.trace.uid}}" } },
    ],
  };
}

async function runWorkflow(claim: string, inputs: Record<string, string>): Promise<any> {
  const { id } = await api("POST", "/v1/workflows/runs", { workflow: placeCandidates(claim), inputs });
  for (;;) {
    const run = await api("GET", `/v1/workflows/runs/${id}`);
    if (!["queued", "running"].includes(run.status)) return run;
    await Bun.sleep(50);
  }
}

async function agentLoop(claim: string): Promise<void> {
  const pickRow = await api("POST", "/v1/sql", {
    sql: `select primary_skill, state from ${DEMO.datasets.workers} where worker_id::VARCHAR = ?`,
    params: [claim],
  });
  const [skill, state] = (pickRow.rows[0] ?? ["forklift operator", "IL"]) as [string, string];
  const inputs = { query: `${skill} in ${state}, can start this week`, state, skill };
  console.log(`\n${bold("6. The agent loop as one workflow run")} ${dim("(search → relevance → gate → observer review against SQL → seal → memory)")}`);
  for (const [title, who] of [
    ["a true claim", claim],
    ["a hallucinated candidate", "W99999"],
  ] as const) {
    const run = await runWorkflow(who, inputs);
    const step = (id: string) => run.steps.find((s: { id: string }) => s.id === id);
    const review = step("review")?.output;
    const receipt = step("receipt")?.output?.receipts?.[0];
    console.log(`  ${bold(title)} (worker ${who}): run ${run.status}, verdict ${bold(review?.verdict ?? "?")}${review?.degraded ? " (degraded)" : ""}`);
    console.log(
      dim(
        `    seal: ${step("seal")?.status}; memory: ${step("learn")?.status}${receipt ? `; audit receipt #${receipt.seq} ${String(receipt.after_hash).slice(0, 12)}…` : ""}`,
      ),
    );
    console.log(dim(`    input hash ${String(run.input_hash).slice(0, 12)}…, output hash ${String(run.output_hash).slice(0, 12)}…`));
  }
}
