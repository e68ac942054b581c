// Small staffing datasets and API helpers shared by the matrix tests.
import type { Lakehouse } from "../../src/app.ts";
import { call } from "../helpers/app.ts";

export interface Worker {
  worker_id: string;
  person_id: string;
  primary_skill: string;
  city: string;
  state: string;
  hourly_rate: number;
  available: boolean;
  resume_text: string;
}

const SKILLS = ["Forklift Operator", "Welder", "CNC Machinist", "Warehouse Associate", "Electrician", "Truck Driver", "Pick Packer", "Carpenter"];
const PLACES: [string, string][] = [
  ["Joliet", "IL"],
  ["Chicago", "IL"],
  ["Aurora", "IL"],
  ["Gary", "IN"],
  ["Milwaukee", "WI"],
  ["Detroit", "MI"],
];
const FILLER = ["reliable", "punctual", "team player", "safety minded", "fast learner", "detail oriented", "flexible hours", "bilingual"];

export function workers(n: number): Worker[] {
  return Array.from({ length: n }, (_, i) => {
    const skill = SKILLS[i % SKILLS.length]!;
    const [city, state] = PLACES[Math.floor(i / SKILLS.length) % PLACES.length]!;
    const extra = `${FILLER[i % FILLER.length]} and ${FILLER[(i * 3 + 1) % FILLER.length]}`;
    return {
      worker_id: `W${String(i).padStart(5, "0")}`,
      person_id: `P${String(i).padStart(5, "0")}`,
      primary_skill: skill,
      city,
      state,
      hourly_rate: 16 + ((i * 7) % 15),
      available: i % 3 !== 0,
      resume_text: `${skill} with ${1 + (i % 12)} years of experience in ${city}. ${extra}. Worked second shift at a distribution center.`,
    };
  });
}

function csvField(x: unknown): string {
  const s = x === null || x === undefined ? "" : String(x);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? Object.keys(rows[0]!);
  return [cols.join(","), ...rows.map((r) => cols.map((c) => csvField(r[c])).join(","))].join("\n") + "\n";
}

export async function ingest(lh: Lakehouse, name: string, csv: string, mode: "replace" | "append" = "replace"): Promise<void> {
  const res = await call(lh, `/v1/ingest/${name}?mode=${mode}`, { method: "POST", headers: { "content-type": "text/csv" }, body: csv });
  if (res.status >= 300) throw new Error(`ingest ${name}: ${res.status} ${await res.text()}`);
}

export async function post(lh: Lakehouse, path: string, body: unknown): Promise<Response> {
  return call(lh, path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

export async function json<T = any>(res: Response | Promise<Response>): Promise<T> {
  return (await res).json() as Promise<T>;
}

/** Starts a corpus build over the API and waits for it to end. */
export async function buildCorpus(lh: Lakehouse & { matrix: { corpora: { settled(n: string): Promise<void> } } }, body: Record<string, unknown>): Promise<any> {
  const res = await post(lh, "/v1/matrix/corpora", body);
  if (res.status !== 201 && res.status !== 202) throw new Error(`build: ${res.status} ${await res.text()}`);
  await lh.matrix.corpora.settled(body.name as string);
  return json(call(lh, `/v1/matrix/corpora/${body.name}`));
}

export const WORKERS_CORPUS = {
  name: "workers",
  dataset: "workers",
  id_column: "worker_id",
  template: "{primary_skill} in {city}, {state}: {resume_text}",
  metadata: ["person_id", "primary_skill", "city", "state", "hourly_rate", "available"],
};
