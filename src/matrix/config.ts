// The [matrix] config section: how corpora are built, how results from several corpora are fused,
// the default relevance cut, the downgrade gate's thresholds and the playbook memory's weights.
import * as v from "valibot";
import { intBetween as int, numberBetween as num } from "../lib/config.ts";

const gateSection = v.strictObject({
  /** Below this top score (calibrated units: standard deviations above a random match) a strong model answers. */
  min_top_score: v.optional(num(-1e6, 1e6), 3),
  /** Fewer results passing relevance than this → strong. */
  min_passing: v.optional(int(0, 10_000), 3),
  /** A lead of the top result over the second at least this large counts as a clear answer. */
  min_margin: v.optional(num(0, 1e6), 0.5),
  /** Share of searched corpora with a result among the passing ones that counts as agreement. */
  min_agreement: v.optional(num(0, 1), 0.5),
  /**
   * A query whose words the searched corpora never use, in this share or more, → strong: its
   * results rest on the embedder's guess of what those words mean (docs/matrix.md, gate).
   */
  max_unknown_share: v.optional(num(0, 1), 0.3),
});

export const matrixSection = v.strictObject({
  /** Rows embedded and upserted per batch while building a corpus. */
  build_batch: v.optional(int(1, 4096), 256),
  /** Rows read from the dataset per SQL query while building (each query scans the dataset once); at most sql.max_rows. */
  read_page: v.optional(int(1, 1_000_000), 8192),
  /**
   * How often a build makes its progress durable: the lexical delta, the row hashes and the
   * record. A crash loses at most this much embedding work; each checkpoint rewrites the row
   * hashes whole (≈6 MB at 100K rows), so much shorter costs build time.
   */
  checkpoint_ms: v.optional(int(50, 600_000), 2000),
  /** Default fusion across corpora; "calibrated" ranked better on the labelled set (docs/matrix.md). */
  fusion: v.optional(v.picklist(["calibrated", "rrf"]), "calibrated"),
  /** The k of reciprocal rank fusion, 1/(k + rank); 60 is the value of Cormack et al. */
  rrf_k: v.optional(int(1, 10_000), 60),
  /** Results fetched from each corpus before fusion when a search names no per_corpus_k. */
  per_corpus_k: v.optional(int(1, 1000), 50),
  /**
   * Hybrid search: weight of the lexical (BM25) part against the vector part's 1. On the labelled
   * set (docs/matrix.md) 2 beat 1 by 0.05-0.07 nDCG@10 on résumé texts (where both embedders are
   * weak) and cost at most 0.004 on short profiles; 3 cost more there.
   */
  lexical_weight: v.optional(num(0, 100), 2),
  gate: v.optional(gateSection, {}),
  playbooks: v.optional(
    v.strictObject({
      /** Query similarity (cosine) from which a past playbook applies to a new search. */
      min_similarity: v.optional(num(-1, 1), 0.6),
      /** Score added per fully similar, fresh success (subtracted for a failure), in fused-score units. */
      weight: v.optional(num(0, 1e6), 2),
      /** Age at which a playbook's effect halves. */
      half_life_days: v.optional(num(0.001, 36_500), 30),
    }),
    {},
  ),
});

export type MatrixConfig = v.InferOutput<typeof matrixSection>;
export type GateConfig = v.InferOutput<typeof gateSection>;
