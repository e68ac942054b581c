// Regenerates the search-quality table in docs/matrix.md (between the eval-search markers): nDCG@10
// of the labelled staffing query set (test/matrix/eval/labelled-set.ts) for each embedder alone,
// BM25 alone and hybrid, over two corpus templates, plus hybrid at other lexical weights.
//
//   bun scripts/eval-search.ts [--rows 10000] [--providers hash,words,words+hash] [--weights 1,3] [--no-write]
//
// "words+hash" is the words provider's model joined with hashed features (src/embed/words-embedder.ts).
//
// Deterministic: the same rows (gen_staffing.ts, seed 42) and queries give the same table.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WITH_HASH_SUFFIX } from "../src/embed/words-embedder.ts";
import { WORDS_MODEL } from "../src/embed/words-path.ts";
import { LABELLED, TEMPLATES } from "../test/matrix/eval/labelled-set.ts";
import { type EvalScores, evaluate, generateWorkers, MODES, type Variant } from "../test/matrix/eval/run-eval.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "10000" },
    providers: { type: "string", default: "hash,words,words+hash" },
    weights: { type: "string", default: "1,3" },
    "no-write": { type: "boolean", default: false },
  },
});
const ROWS = Number(args.rows);
const providers = args.providers.split(",");
// Each corpus names its model: without one it would get embed.index_model, whatever the provider.
const EMBEDDERS: Record<string, { provider: "hash" | "words"; model: string }> = {
  hash: { provider: "hash", model: "hash-384" },
  words: { provider: "words", model: WORDS_MODEL },
  "words+hash": { provider: "words", model: `${WORDS_MODEL}${WITH_HASH_SUFFIX}` },
};
for (const p of providers) if (!EMBEDDERS[p]) throw new Error(`unknown embedder ${p}: one of ${Object.keys(EMBEDDERS).join(", ")}`);
const weights = args.weights.split(",").filter(Boolean).map(Number);
const DOC = join(import.meta.dir, "..", "docs", "matrix.md");
const BEGIN = "<!-- eval-search:begin (bun scripts/eval-search.ts) -->";
const END = "<!-- eval-search:end -->";

const log = (...x: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...x);
const f = (x: number) => x.toFixed(3);
const variants: Variant[] = [...MODES, ...weights.map((w) => ({ name: `hybrid w=${w}`, mode: "hybrid" as const, extra: { lexical_weight: w } }))];

log(`generating ${ROWS} workers`);
const csv = await generateWorkers(ROWS);
const results: Record<string, Record<string, Record<string, EvalScores>>> = {};
for (const [tname, template] of Object.entries(TEMPLATES)) {
  results[tname] = {};
  for (const p of providers) {
    log(`${tname} template, ${p}`);
    results[tname]![p] = await evaluate(csv, EMBEDDERS[p]!.provider, variants, { template, model: EMBEDDERS[p]!.model });
  }
}

function gateLine(name: string, s: EvalScores): string {
  const part = (tier: "small" | "strong") => {
    const xs = s.perQuery.filter((_, i) => s.tiers[i] === tier);
    return `${xs.length} ${tier} (${xs.length === 0 ? "–" : f(xs.reduce((a, b) => a + b, 0) / xs.length)})`;
  };
  return `${name} ${part("small")}, ${part("strong")}`;
}

const row = (label: string, s: EvalScores | undefined, best = false) => {
  if (!s) return `| ${label} | | | |`;
  const b = (x: string) => (best ? `**${x}**` : x);
  return `| ${label} | ${b(f(s.all))} | ${f(s.literal)} | ${f(s.synonym)} |`;
};
const synonyms = LABELLED.filter((q) => q.synonym).length;
let md = `${ROWS.toLocaleString("en-US")} generated workers (\`gen_staffing.ts\`, seed 42), ${LABELLED.length} queries (${LABELLED.length - synonyms} literal, ${synonyms} with synonyms the data does not contain), nDCG@10 over the whole dataset's grades, k = 10, filters as the queries carry them, playbooks off. Lexical is the same index under both embedders; hybrid is at the default \`lexical_weight\` (2) unless the row says otherwise.\n`;
for (const [tname, template] of Object.entries(TEMPLATES)) {
  const r = results[tname]!;
  const first = r[providers[0]!]!;
  const lines = [
    `| \`${template}\` | all | literal | synonyms |`,
    "|---|---:|---:|---:|",
    ...providers.map((p) => row(`${p} (vector)`, r[p]!.vector)),
    row("lexical (BM25)", first.lexical),
    ...providers.map((p) => row(`hybrid(${p})`, r[p]!.hybrid, true)),
    ...weights.flatMap((w) => providers.map((p) => row(`hybrid(${p}), lexical_weight ${w}`, r[p]![`hybrid w=${w}`]))),
  ];
  md += `\n${tname === "resume" ? "Résumé corpus (the README's workers template, the shift added)" : "Profile corpus (no résumé text)"}:\n\n${lines.join("\n")}\n`;
  md += `\nThe downgrade gate on the hybrid searches above (queries it sent to the small model / to the strong one, and their mean nDCG@10): ${providers.map((p) => gateLine(p, r[p]!.hybrid!)).join("; ")}.\n`;
}
console.log(md);
if (!args["no-write"]) {
  const doc = readFileSync(DOC, "utf8");
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/matrix.md has no ${BEGIN} … ${END} block`);
  writeFileSync(DOC, `${doc.slice(0, a + BEGIN.length)}\n${md}${doc.slice(b)}`);
  log("docs/matrix.md updated");
}
