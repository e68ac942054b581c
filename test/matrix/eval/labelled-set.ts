// The labelled staffing query set, pure: 54 queries over workers made by
// scripts/datagen/gen_staffing.ts, each graded against the generator's own columns (its ground
// truth), and nDCG@10. Keep it free of bun:test: scripts/eval-search.ts runs it too.
//
// Grades: a worker whose primary skill is not the one asked for is 0, whatever else matches; a
// skill match is 1, +2 in the city asked for, +1 with the shift asked for. A rate cap is a filter
// of the request (hourly_rate ≤ cap), so a worker over it cannot be returned and grades 0.
// A third of the queries (18) name the skill or the shift with words the data never uses
// ("lift truck", "overnight", "metal fabricator": test/matrix/search-eval.test.ts checks they
// are absent), which only an embedder that knows meaning can bridge.

export interface LabelledQuery {
  query: string;
  skill: string;
  city: string;
  shift?: string;
  maxRate?: number;
  synonym: boolean;
}

export interface GroundTruth {
  id: string;
  primary_skill: string;
  city: string;
  shift_preference: string;
  hourly_rate: number;
}

/** The templates evaluated: the README's workers corpus (with the shift as text), and a short profile without the résumé. */
export const TEMPLATES = {
  resume: "{primary_skill} in {city}, {state}, {shift_preference} shift: {resume_text}",
  profile: "{primary_skill} in {city}, {state}, {shift_preference} shift",
} as const;
export const EVAL_TEMPLATE = TEMPLATES.resume;

const lit = (query: string, skill: string, city: string, shift?: string, maxRate?: number): LabelledQuery => ({
  query,
  skill,
  city,
  shift,
  maxRate,
  synonym: false,
});
const syn = (query: string, skill: string, city: string, shift?: string, maxRate?: number): LabelledQuery => ({
  query,
  skill,
  city,
  shift,
  maxRate,
  synonym: true,
});

export const LABELLED: readonly LabelledQuery[] = [
  // skill + city (18)
  lit("forklift operator in Chicago", "forklift operator", "Chicago"),
  lit("welder in Houston", "welder", "Houston"),
  lit("CNA in Phoenix", "CNA", "Phoenix"),
  lit("CDL driver near Dallas, TX", "CDL driver", "Dallas"),
  lit("warehouse associate in Atlanta", "warehouse associate", "Atlanta"),
  lit("electrician in Detroit", "electrician", "Detroit"),
  lit("machine operator near Los Angeles", "machine operator", "Los Angeles"),
  lit("picker/packer in New York", "picker/packer", "New York"),
  lit("janitor in Philadelphia", "janitor", "Philadelphia"),
  lit("line cook in Miami", "line cook", "Miami"),
  lit("HVAC technician in Denver", "HVAC technician", "Denver"),
  lit("security guard in Seattle", "security guard", "Seattle"),
  lit("home health aide in Columbus", "home health aide", "Columbus"),
  lit("maintenance technician in Charlotte", "maintenance technician", "Charlotte"),
  lit("CNC machinist in Milwaukee", "CNC machinist", "Milwaukee"),
  lit("general laborer in San Antonio", "general laborer", "San Antonio"),
  lit("material handler in Indianapolis", "material handler", "Indianapolis"),
  lit("assembler in Nashville", "assembler", "Nashville"),
  // skill + city + shift, some under a rate cap (18)
  lit("forklift operator near Chicago with night shift availability under $20/h", "forklift operator", "Chicago", "night", 20),
  lit("night shift welder in Detroit", "welder", "Detroit", "night"),
  lit("CNA night shift in Houston under $19/h", "CNA", "Houston", "night", 19),
  lit("day shift warehouse associate in Dallas", "warehouse associate", "Dallas", "day"),
  lit("CDL driver weekend shift in Atlanta", "CDL driver", "Atlanta", "weekend"),
  lit("swing shift machine operator in Phoenix under $19/h", "machine operator", "Phoenix", "swing", 19),
  lit("electrician day shift in Los Angeles", "electrician", "Los Angeles", "day"),
  lit("picker/packer night shift in New York under $17/h", "picker/packer", "New York", "night", 17),
  lit("janitor night shift in Chicago", "janitor", "Chicago", "night"),
  lit("line cook weekend shift in Las Vegas", "line cook", "Las Vegas", "weekend"),
  lit("security guard night shift in Philadelphia under $18/h", "security guard", "Philadelphia", "night", 18),
  lit("home health aide day shift in Miami", "home health aide", "Miami", "day"),
  lit("general laborer swing shift in Houston", "general laborer", "Houston", "swing"),
  lit("maintenance technician rotating shift in Cleveland", "maintenance technician", "Cleveland", "rotating"),
  lit("material handler day shift in Chicago under $18/h", "material handler", "Chicago", "day", 18),
  lit("HVAC technician day shift in Atlanta", "HVAC technician", "Atlanta", "day"),
  lit("assembler night shift in Detroit", "assembler", "Detroit", "night"),
  lit("CNC machinist day shift in Houston under $27/h", "CNC machinist", "Houston", "day", 27),
  // synonyms the data does not contain (18)
  syn("overnight lift truck driver in Chicago", "forklift operator", "Chicago", "night"),
  syn("lift truck operator in Houston", "forklift operator", "Houston"),
  syn("metal fabricator in Detroit", "welder", "Detroit"),
  syn("metal fabrication worker in Los Angeles, overnight", "welder", "Los Angeles", "night"),
  syn("nursing assistant in Phoenix", "CNA", "Phoenix"),
  syn("overnight nursing assistant in Houston under $19/h", "CNA", "Houston", "night", 19),
  syn("semi trucker in Dallas", "CDL driver", "Dallas"),
  syn("tractor trailer trucker in Atlanta, daytime", "CDL driver", "Atlanta", "day"),
  syn("custodian in Philadelphia", "janitor", "Philadelphia"),
  syn("graveyard custodian in Chicago", "janitor", "Chicago", "night"),
  syn("kitchen chef in Miami", "line cook", "Miami"),
  syn("caregiver for elderly at home in Columbus", "home health aide", "Columbus"),
  syn("electrical wiring tradesman in Detroit", "electrician", "Detroit"),
  syn("heating and air conditioning mechanic in Denver", "HVAC technician", "Denver"),
  syn("overnight forklift operator in Houston", "forklift operator", "Houston", "night"),
  syn("daytime order packing worker in New York under $17/h", "picker/packer", "New York", "day", 17),
  syn("overnight security officer in Seattle", "security guard", "Seattle", "night"),
  syn("building repair mechanic in Charlotte", "maintenance technician", "Charlotte"),
];

/** The search filter a query carries: its rate cap. */
export function filterOf(q: LabelledQuery): Record<string, unknown> | undefined {
  return q.maxRate === undefined ? undefined : { hourly_rate: { $lte: q.maxRate } };
}

export function grade(q: LabelledQuery, w: GroundTruth): number {
  if (w.primary_skill !== q.skill) return 0;
  if (q.maxRate !== undefined && w.hourly_rate > q.maxRate) return 0;
  return 1 + (w.city === q.city ? 2 : 0) + (q.shift !== undefined && w.shift_preference === q.shift ? 1 : 0);
}

const gain = (g: number) => 2 ** g - 1;

/** nDCG@k of a ranking (ids, best first) against every document's grade; 1 when nothing is relevant at all. */
export function ndcgAt(k: number, ranked: readonly string[], grades: ReadonlyMap<string, number>): number {
  const dcg = ranked.slice(0, k).reduce((a, id, i) => a + gain(grades.get(id) ?? 0) / Math.log2(i + 2), 0);
  const ideal = [...grades.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((a, g, i) => a + gain(g) / Math.log2(i + 2), 0);
  return ideal === 0 ? 1 : dcg / ideal;
}

/** Each query's grades over the whole dataset (non-zero ones only). */
export function gradesFor(q: LabelledQuery, rows: readonly GroundTruth[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const g = grade(q, r);
    if (g > 0) out.set(r.id, g);
  }
  return out;
}
