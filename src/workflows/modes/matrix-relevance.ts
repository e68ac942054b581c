// Mode `matrix.relevance`: the matrix's relevance cut (minimum score, required terms, score gap)
// applied to results a step already has, e.g. {{steps.search.output.results}}. The matrix offers the
// cut only inside matrix.search, not as an operation, so this mode runs the matrix's own pure
// function (src/matrix/relevance.ts): no module state is touched, and the rules cannot drift.
import * as v from "valibot";
import { applyRelevance } from "../../matrix/relevance.ts";
import { ownMode } from "./mode.ts";

const Result = v.looseObject({
  corpus: v.string(),
  id: v.string(),
  score: v.number(),
  metadata: v.optional(v.record(v.string(), v.unknown()), {}),
});

const Input = v.strictObject({
  results: v.pipe(v.array(Result), v.maxLength(10_000), v.description("results best first, as matrix.search returns them")),
  min_score: v.optional(v.number()),
  required_terms: v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(200)))),
  gap: v.optional(v.pipe(v.number(), v.minValue(0))),
});

const Output = v.object({
  results: v.array(v.looseObject({ corpus: v.string(), id: v.string(), score: v.number() })),
  dropped: v.object({ min_score: v.number(), required_terms: v.number(), gap: v.number() }),
  drops: v.array(v.object({ corpus: v.string(), id: v.string(), score: v.number(), reason: v.string(), detail: v.string() })),
});

export default ownMode({
  name: "matrix.relevance",
  summary: "cut results for relevance: min_score, required_terms (checked against the result's metadata), gap",
  input: Input,
  output: Output,
  run: async (input) => {
    const { results, min_score, required_terms, gap } = input as v.InferOutput<typeof Input>;
    // Fused wants confidence and sources; the cut reads only score, metadata and text.
    const fused = results.map((r) => ({ ...r, confidence: r.score, sources: [], metadata: r.metadata }));
    const cut = applyRelevance(fused, { minScore: min_score, requiredTerms: required_terms, gap });
    const kept = new Set(cut.kept);
    return { results: results.filter((_r, i) => kept.has(fused[i]!)), dropped: cut.counts, drops: cut.drops };
  },
});
