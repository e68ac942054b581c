// Search quality of the offline embedders on synonym queries (issue 16 §1): generated workers
// (scripts/datagen/gen_staffing.ts), queries phrased with words the skill names do not contain
// ("lift truck driver" for forklift operator), precision@10 = share of the top 10 whose
// primary_skill is the one meant. Exact cosine over all documents (no index), so the figure is the
// embedder's alone. Not a timed test: a script whose output goes to docs/embed.md.
// usage: bun scripts/bench/words-eval.ts [workers=3000]
import { join } from "node:path";
import { hashEmbed } from "../../src/embed/hash-embedder.ts";
import { loadWordsTable, WordsEmbedder, withHash } from "../../src/embed/words-embedder.ts";
import { defaultFields, mixFields } from "../../src/matrix/fields.ts";
import { defaultWordsTablePath } from "../../src/embed/words-path.ts";
import { tempDir } from "../../test/support/tmp.ts";

const N = Number(Bun.argv[2] ?? 3000);

/** [primary_skill, query phrased without the skill's own words]. Written before looking at any result. */
const QUERIES: [string, string][] = [
  ["forklift operator", "lift truck driver"],
  ["forklift operator", "powered industrial truck operator overnight"],
  ["warehouse associate", "distribution center worker"],
  ["warehouse associate", "stockroom employee"],
  ["picker/packer", "order fulfillment boxing shipments"],
  ["general laborer", "manual labor helper"],
  ["CDL driver", "semi trucker tractor trailer"],
  ["CNA", "nursing aide caring for patients"],
  ["welder", "metal fabrication"],
  ["welder", "arc joining steel fabricator"],
  ["machine operator", "factory production equipment tender"],
  ["assembler", "assembly line worker building products"],
  ["material handler", "moves inventory and loads pallets"],
  ["electrician", "electrical wiring installer"],
  ["maintenance technician", "facilities repair mechanic"],
  ["home health aide", "in-home caregiver for elderly"],
  ["janitor", "custodian"],
  ["janitor", "building cleaning crew"],
  ["security guard", "watchman patrolling"],
  ["line cook", "restaurant kitchen grill"],
  ["HVAC technician", "heating and air conditioning repair"],
  ["HVAC technician", "furnace and refrigeration mechanic"],
  ["CNC machinist", "computer controlled lathe and mill"],
  ["quality inspector", "product testing and defect checking"],
  ["LPN", "vocational nurse"],
  ["medical assistant", "doctor's office clinical helper"],
  ["phlebotomist", "blood draw technician"],
  ["pipefitter", "steamfitter"],
  ["carpenter", "woodworker framing"],
  ["plumber", "drains and water lines repair"],
  ["painter", "drywall finishing and coatings"],
  ["landscaper", "gardener lawn care"],
  ["landscaper", "groundskeeper"],
  ["dishwasher", "kitchen porter"],
  ["customer service rep", "call center agent"],
  ["data entry clerk", "typist keying records"],
  ["receptionist", "front desk greeter"],
];

/** RFC 4180 (the generator's output: quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") endField();
    else if (c === "\n") {
      endField();
      rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== "" || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

const csvPath = join(tempDir("words-eval-"), "workers.csv");
const gen = Bun.spawnSync(["bun", join(import.meta.dir, "..", "datagen", "gen_staffing.ts"), "--rows", String(N), "--out", csvPath, "--seed", "7"], {
  stderr: "ignore",
});
if (gen.exitCode !== 0) throw new Error("gen_staffing failed");
const [header, ...rows] = parseCsv(await Bun.file(csvPath).text());
const col = (name: string) => header!.indexOf(name);
const FIELDS = ["primary_skill", "city", "state", "resume_text"];
const workers = rows.map((r) => ({
  skill: r[col("primary_skill")]!,
  full: `${r[col("primary_skill")]} in ${r[col("city")]}, ${r[col("state")]}: ${r[col("resume_text")]}`,
  values: FIELDS.map((f) => r[col(f)]!),
}));
// Weighed as a corpus over this template would be (src/matrix/fields.ts: the résumé ≈ 0.2).
const fields = defaultFields(
  FIELDS,
  workers.slice(0, 1000).map((w) => Object.fromEntries(FIELDS.map((f, i) => [f, w.values[i]]))),
);

const words = new WordsEmbedder(loadWordsTable(defaultWordsTablePath));
type Embed = (t: string) => number[];
const embedders: [string, Embed][] = [
  ["hash-384", (t) => hashEmbed(t, 384)],
  ["words-sg100-v1", (t) => words.embed(t)],
  ["words-sg100-v1+hash256", (t) => withHash(words.embed(t), t)],
];
type DocVector = (w: (typeof workers)[number], embed: Embed) => number[];
const docs: [string, DocVector][] = [
  ["full template `{primary_skill} in {city}, {state}: {resume_text}`, read whole", (w, e) => e(w.full)],
  ["the same template as a fielded corpus reads it (fields mixed, résumé weighed by length)", (w, e) => mixFields(w.values, fields, e)],
  ["skill field alone", (w, e) => e(w.skill)],
];

function precisionAt10(embed: Embed, docVector: DocVector): number {
  const vecs = workers.map((w) => docVector(w, embed));
  let sum = 0;
  for (const [skill, query] of QUERIES) {
    const q = embed(query);
    const top = vecs
      .map((v, i) => [v.reduce((s, x, d) => s + x * q[d]!, 0), i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, 10);
    sum += top.filter(([, i]) => workers[i]!.skill === skill).length / 10;
  }
  return sum / QUERIES.length;
}

const lines = [`| documents | ${embedders.map(([n]) => n).join(" | ")} |`, `|---|${embedders.map(() => "---").join("|")}|`];
for (const [label, docVector] of docs) lines.push(`| ${label} | ${embedders.map(([, e]) => precisionAt10(e, docVector).toFixed(2)).join(" | ")} |`);
console.log(`Precision@10 by primary skill, ${QUERIES.length} synonym queries, ${N} generated workers (seed 7):\n\n${lines.join("\n")}`);
