// The matrix's request and result schemas: they validate input over HTTP and in-process, describe
// the API in the OpenAPI document, and (with server.check_results) check every result.
import * as v from "valibot";
import { named } from "../ops/openapi.ts";
import { PublicPlaybookSchema } from "./playbooks.ts";

const MAX_K = 1000;
const name = v.pipe(v.string(), v.minLength(1), v.maxLength(63));
const column = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
const nonEmpty = v.pipe(v.string(), v.minLength(1), v.maxLength(10_000));

export const CorpusBody = v.strictObject({
  name: v.pipe(name, v.description("1-63 of [A-Za-z0-9_-], starting with a letter")),
  dataset: name,
  id_column: column,
  text: v.optional(v.pipe(v.array(column), v.minLength(1), v.description("columns joined with newlines; or give template"))),
  template: v.optional(v.pipe(nonEmpty, v.description('e.g. "{primary_skill} in {city}, {state}: {resume_text}"'))),
  metadata: v.optional(v.pipe(v.array(column), v.description("columns stored with each row, for filters and results"))),
  model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  field_weights: v.optional(
    v.pipe(
      v.record(column, v.pipe(v.number(), v.minValue(0.01), v.maxValue(100))),
      v.description(
        "weight of each text column (a field) in search; a column left out is weighed by its length: 1 up to 4 words, sqrt(4 / average words) beyond (a 90-word résumé: 0.21)",
      ),
    ),
  ),
});

/** Mirrors CorpusStatus in corpora.ts. */
export const CorpusStatusSchema = named(
  "CorpusStatus",
  v.object({
    name: v.string(),
    dataset: v.string(),
    state: v.picklist(["building", "ready", "failed"]),
    rows_done: v.number(),
    rows_total: v.number(),
    rows_per_s: v.number(),
    eta_s: v.nullable(v.number()),
    skipped_empty: v.number(),
    error: v.optional(v.string()),
    model: v.optional(v.pipe(v.string(), v.description("absent: the provider's default model"))),
    fields: v.optional(
      v.pipe(
        v.array(v.object({ column: v.string(), weight: v.number() })),
        v.description("the text columns searched as fields, with their weights; absent for a corpus built before field-aware search (its text is read whole)"),
      ),
    ),
    dim: v.nullable(v.pipe(v.number(), v.description("null until the first row is embedded"))),
    count: v.number(),
    pending: v.number(),
    calibration: v.optional(v.object({ mean: v.number(), std: v.number() })),
    lexical: v.object({
      docs: v.nullable(v.pipe(v.number(), v.description("documents in the lexical (BM25) index; null while it loads"))),
      calibration: v.optional(v.object({ mean: v.number(), std: v.number() })),
      rebuilt: v.optional(
        v.pipe(
          v.picklist(["missing", "damaged", "stale"]),
          v.description("rebuilt at start-up from the texts the vector index stores: no segments, damaged ones, or another tokenizer version's"),
        ),
      ),
    }),
    last_build: v.object({ embedded: v.number(), metadata_updated: v.number(), unchanged: v.number(), removed: v.number() }),
    started_at: v.string(),
    finished_at: v.optional(v.string()),
  }),
);

export const SearchBody = v.strictObject({
  query: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
  vector: v.optional(v.array(v.number())),
  corpora: v.optional(v.pipe(v.array(name), v.minLength(1), v.description("default: every corpus"))),
  k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K)), 10),
  per_corpus_k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K))),
  filter: v.optional(
    v.pipe(
      v.unknown(),
      v.description(
        'shared filter language: {"state": "IL", "available": true, "hourly_rate": {"$lte": 22}}, or as text: state = IL and available = true and hourly_rate <= 22',
      ),
    ),
  ),
  weights: v.optional(v.record(v.string(), v.pipe(v.number(), v.minValue(0), v.maxValue(1000)))),
  dedupe_key: v.optional(column),
  fusion: v.optional(v.picklist(["calibrated", "rrf"])),
  mode: v.optional(
    v.pipe(
      v.picklist(["hybrid", "vector", "lexical"]),
      v.description("hybrid: BM25 and vector merged per corpus (default with a query); vector (default with a vector); lexical: BM25 alone"),
    ),
  ),
  lexical_weight: v.optional(
    v.pipe(v.number(), v.minValue(0), v.maxValue(100), v.description("hybrid: the lexical part's weight against the vector part's 1")),
  ),
  relevance: v.optional(
    v.strictObject({
      min_score: v.optional(v.number()),
      required_terms: v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(200)))),
      gap: v.optional(v.pipe(v.number(), v.minValue(0))),
    }),
  ),
  playbooks: v.optional(v.boolean()),
  explain: v.optional(v.boolean()),
});

const GateSignalsSchema = v.object({
  top_score: v.nullable(v.number()),
  margin: v.nullable(v.number()),
  agreement: v.number(),
  passing: v.number(),
  unknown_terms: v.optional(v.pipe(v.array(v.string()), v.description("query words that occur in none of the searched corpora (search with query text only)"))),
  unknown_share: v.optional(v.pipe(v.number(), v.description("their share of the query's distinct words"))),
});

/** Mirrors GateDecision in gate.ts. */
export const GateDecisionSchema = named("GateDecision", v.object({ tier: v.picklist(["small", "strong"]), reason: v.string(), signals: GateSignalsSchema }));

const PartSchema = v.object({ rank: v.nullable(v.number()), raw: v.number(), calibrated: v.number() });
const SourceSchema = v.object({
  corpus: v.string(),
  id: v.string(),
  rank: v.number(),
  raw: v.number(),
  calibrated: v.number(),
  contribution: v.number(),
  parts: v.optional(v.pipe(v.object({ vector: PartSchema, lexical: PartSchema }), v.description("hybrid: the vector and lexical parts of this score"))),
});
const BoostSchema = v.object({
  playbook: v.string(),
  outcome: v.picklist(["success", "failure"]),
  similarity: v.number(),
  age_days: v.number(),
  effect: v.number(),
});
const DropReasonSchema = v.picklist(["min_score", "required_terms", "gap"]);

/** Mirrors SearchOutput in search.ts; the explain parts are there only when explain was asked. */
export const SearchResultSchema = v.object({
  results: v.array(
    v.object({
      corpus: v.string(),
      id: v.string(),
      score: v.number(),
      metadata: v.record(v.string(), v.unknown()),
      explain: v.optional(v.object({ confidence: v.number(), sources: v.array(SourceSchema), boosts: v.array(BoostSchema) })),
    }),
  ),
  gate: GateDecisionSchema,
  relevance: v.object({
    dropped: v.object({ min_score: v.number(), required_terms: v.number(), gap: v.number() }),
    drops: v.optional(v.array(v.object({ corpus: v.string(), id: v.string(), score: v.number(), reason: DropReasonSchema, detail: v.string() }))),
  }),
  fusion: v.object({
    method: v.picklist(["calibrated", "rrf"]),
    rrf_k: v.optional(v.number()),
    mode: v.picklist(["hybrid", "vector", "lexical"]),
    lexical_weight: v.optional(v.number()),
  }),
  timings: v.object({ embed_ms: v.number(), search_ms: v.number(), lexical_ms: v.number(), fuse_ms: v.number(), total_ms: v.number() }),
  /** Items not yet in the corpora's graphs, scored exactly instead (catch-up after a build or a restart). */
  pending_scanned: v.number(),
});

export const GateBody = v.strictObject({
  results: v.array(v.object({ corpus: v.string(), score: v.number() })),
  corpora: v.optional(v.array(v.string())),
});

export const PlaybookBody = named(
  "PlaybookInput",
  v.strictObject({
    query: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(10_000)),
    corpus: name,
    id: v.pipe(v.string(), v.minLength(1), v.maxLength(256), v.description("The result's id in its corpus")),
    outcome: v.picklist(["success", "failure"]),
    rating: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(5))),
    note: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
  }),
);
export const BulkBody = v.strictObject({ playbooks: v.pipe(v.array(PlaybookBody), v.minLength(1), v.maxLength(10_000)) });

export const PlaybookResultSchema = named("Playbook", PublicPlaybookSchema);
export const PlaybookListSchema = named("PlaybookList", v.object({ playbooks: v.array(PlaybookResultSchema) }));
