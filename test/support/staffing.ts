// Staffing rows (workers with a skill, a place and resume text; deterministic) and a CSV encoder for
// them, for tests that need a realistic dataset to ingest. Keep it free of bun:test so a benchmark
// can import it too (the ones today generate theirs at scale with scripts/datagen/gen_staffing.ts).

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
  return `${[cols.join(","), ...rows.map((r) => cols.map((c) => csvField(r[c])).join(","))].join("\n")}\n`;
}
