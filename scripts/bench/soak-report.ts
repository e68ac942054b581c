// The soak's tables (scripts/bench/soak.ts): figures over time, totals by kind of request, the
// faults and what each produced, and the server's error log lines behind the unexpected errors.
import { type MemorySample, mib, ms, type Recorder, type Sample, stats, windows, workersRss } from "./soak-record.ts";

const GROUPS: Record<string, string[]> = {
  sql: ["sql", "sql_heavy"],
  ingest: ["ingest"],
  vector: ["vector_upsert", "vector_search"],
  matrix: ["matrix_search", "playbook"],
};
const ORDER = [
  "sql",
  "sql_heavy",
  "ingest",
  "vector_upsert",
  "vector_search",
  "matrix_search",
  "playbook",
  "matrix_rebuild",
  "matrix_build",
  "corpus_status",
  "health",
];
const n = (x: number) => x.toLocaleString("en-US");
const cell = (s: string) => s.replaceAll("|", "\\|");

/** The load's requests: neither the seeding nor the faults' own probes. */
const loadOf = (rec: Recorder) => rec.samples.filter((s) => !s.kind.startsWith("fault:") && s.kind !== "seed");

function latency(rec: Recorder, xs: Sample[]): string {
  const st = stats(rec, xs);
  return st.n === 0 ? "—" : `${ms(st.p50)} / ${ms(st.p99)}`;
}

const serverCell = (m: MemorySample[]) => (m.length ? mib(Math.max(...m.map((x) => x.server))) : "—");
const workersCell = (m: MemorySample[]) => (m.length ? `${Math.max(...m.map((x) => x.workers.length))}, ${mib(Math.max(...m.map(workersRss)))}` : "—");

/** One row per window of `width` ms. */
export function overTime(rec: Recorder, width: number, endMs: number): string {
  const out = [
    "| t (s) | requests | SQL p50 / p99 ms | ingest | vector | matrix | errors: by a fault / unexpected | server RSS max | SQL workers: n, RSS sum max | load (1 min) | faults |",
    "|---|---:|---|---|---|---|---|---:|---|---:|---|",
  ];
  for (const w of windows(rec, width, endMs)) {
    const errs = w.samples.filter((s) => rec.verdict(s) !== "ok");
    const induced = errs.filter((s) => rec.verdict(s) === "induced").length;
    const group = (g: string) =>
      latency(
        rec,
        w.samples.filter((s) => GROUPS[g]!.includes(s.kind)),
      );
    out.push(
      `| ${Math.round(w.from / 1000)}–${Math.round(w.to / 1000)} | ${n(w.samples.length)} | ${group("sql")} | ${group("ingest")} | ${group("vector")} | ${group("matrix")} | ${induced} / ${errs.length - induced} | ${serverCell(w.memory)} | ${workersCell(w.memory)} | ${w.memory.at(-1)?.load1.toFixed(2) ?? "—"} | ${w.faults.map((f) => f.name).join("; ")} |`,
    );
  }
  return out.join("\n");
}

/** One row per kind of request, and the sum. */
export function totals(rec: Recorder, endMs: number): string {
  const load = loadOf(rec);
  const kinds = [...new Set(load.map((s) => s.kind))].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const count = (v: string) => load.filter((s) => rec.verdict(s) === v).length;
  return [
    "| kind | requests | 2xx | errors by a fault | unexpected | p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...kinds.map((k) => {
      const st = stats(
        rec,
        load.filter((s) => s.kind === k),
      );
      return `| ${k} | ${n(st.n)} | ${n(st.ok)} | ${st.induced} | ${st.unexpected} | ${ms(st.p50)} | ${ms(st.p99)} | ${ms(st.max)} |`;
    }),
    `| **all** | **${n(load.length)}** (${(load.length / (endMs / 1000)).toFixed(0)}/s) | ${n(count("ok"))} | ${count("induced")} | ${count("unexpected")} | | | |`,
  ].join("\n");
}

export function faultsTable(rec: Recorder): string {
  return [
    "| at (s) | fault | what | what it produced |",
    "|---:|---|---|---|",
    ...rec.faults.map((f) => `| ${(f.start / 1000).toFixed(1)} | ${f.name} | ${cell(f.what)} | ${cell(f.outcome.join("; "))} |`),
  ].join("\n");
}

interface ErrorLine {
  msg: string;
  request_id?: string;
  error?: string;
  detail?: string;
}

/** The server's error lines counted by message, and the unexpected errors grouped alike, each group with its first request and the server's words for it. */
export function serverErrors(errorLines: string[], unexpected: Sample[]): { summary: string; unexpectedLines: string[] } {
  const lines = errorLines.map((l) => JSON.parse(l) as ErrorLine);
  const kinds = new Map<string, number>();
  for (const e of lines) {
    const key = `"${e.msg}"${e.detail ? ` (${e.error}: ${e.detail.slice(0, 80)})` : ""}`;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  const groups = new Map<string, Sample[]>();
  for (const s of unexpected) {
    const line = lines.find((e) => e.request_id === s.rid);
    const key = `${s.kind}: ${s.status} ${s.code ?? ""} "${s.error ?? ""}"${line ? `; server log: ${line.detail ?? line.error}` : ""}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const unexpectedLines = [...groups].map(
    ([key, xs]) =>
      `- ${xs.length} × ${key} (first at ${(xs[0]!.start / 1000).toFixed(1)} s, request id ${xs[0]!.rid}; last at ${(xs.at(-1)!.start / 1000).toFixed(1)} s)`,
  );
  return { summary: [...kinds].map(([k, c]) => `${c} × ${k}`).join(", "), unexpectedLines };
}
