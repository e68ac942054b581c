// One matrix search: embed the query once per model, search every corpus with the filter applied
// inside each index, fuse, apply playbook boosts, cut for relevance, decide the gate.
import { ValidationFailed } from "../errors.ts";
import { compileFilter } from "../filter/compile.ts";
import { type FilterInput, parseFilter } from "../filter/parse.ts";
import { TEXT_KEY } from "./builder.ts";
import { unit } from "./calibration.ts";
import type { MatrixConfig } from "./config.ts";
import type { Corpora } from "./corpora.ts";
import { type Calibration, type CorpusHit, type FusionMethod, fuse, type Source } from "./fusion.ts";
import { decideGate, type GateDecision, gateSignals } from "./gate.ts";
import { applyBoosts, type Boost, itemKey, playbookBoosts } from "./playbook-boost.ts";
import { recallPlaybookItems } from "./playbook-recall.ts";
import type { Playbooks } from "./playbooks.ts";
import type { EmbedPort, VectorPort } from "../ports.ts";
import { applyRelevance, type Drop, type DropReason, round } from "./relevance.ts";

export interface SearchInput {
  query?: string;
  vector?: number[];
  corpora?: string[];
  k: number;
  per_corpus_k?: number;
  /** The shared filter language (src/filter), checked here so a bad node is reported before any search runs. */
  filter?: unknown;
  weights?: Record<string, number>;
  dedupe_key?: string;
  fusion?: FusionMethod;
  relevance?: { min_score?: number; required_terms?: string[]; gap?: number };
  /** Apply playbook boosts (default true). */
  playbooks?: boolean;
  explain?: boolean;
}

export interface SearchResultItem {
  corpus: string;
  id: string;
  score: number;
  metadata: Record<string, unknown>;
  explain?: { confidence: number; sources: Source[]; boosts: Boost[] };
}

export interface SearchOutput {
  results: SearchResultItem[];
  gate: GateDecision;
  relevance: { dropped: Record<DropReason, number>; drops?: Drop[] };
  fusion: { method: FusionMethod; rrf_k?: number };
  timings: { embed_ms: number; search_ms: number; fuse_ms: number; total_ms: number };
}

export interface SearchDeps {
  corpora: Corpora;
  vectors: VectorPort;
  embed: EmbedPort;
  playbooks: Playbooks;
  config: MatrixConfig;
}

const ms = (since: number) => Math.round((performance.now() - since) * 100) / 100;

export async function matrixSearch(deps: SearchDeps, input: SearchInput): Promise<SearchOutput> {
  const t0 = performance.now();
  if ((input.query === undefined) === (input.vector === undefined)) {
    throw new ValidationFailed("give exactly one of query or vector", [{ path: "query", message: "exactly one of query or vector" }]);
  }
  if (input.query !== undefined && input.query.trim() === "") throw new ValidationFailed("query is empty", [{ path: "query", message: "must not be empty" }]);
  const names = input.corpora ?? deps.corpora.names();
  const records = names.map((n) => deps.corpora.require(n));
  for (const key of Object.keys(input.weights ?? {})) {
    if (!names.includes(key))
      throw new ValidationFailed(`weights name corpus "${key}", which is not searched`, [{ path: `weights.${key}`, message: "not a searched corpus" }]);
  }
  const filterNode = input.filter === undefined ? undefined : parseFilter(input.filter, "filter");
  const filter = input.filter as FilterInput | undefined;
  const perCorpusK = Math.max(input.k, input.per_corpus_k ?? deps.config.per_corpus_k);
  const method = input.fusion ?? deps.config.fusion;

  // One query embedding per model among the searched corpora (and the default one, for playbooks).
  const tEmbed = performance.now();
  const queryVectors = new Map<string, readonly number[]>();
  const modelOf = (m: string | undefined) => m ?? deps.embed.defaultModel;
  if (input.query !== undefined) {
    const models = new Set([...records.map((r) => modelOf(r.model)), deps.embed.defaultModel]);
    for (const model of models) {
      const out = await deps.embed.embed([input.query], model === deps.embed.defaultModel ? undefined : model);
      queryVectors.set(model, out.vectors[0]!);
    }
  }
  const vectorFor = (model: string | undefined) => input.vector ?? queryVectors.get(modelOf(model))!;
  const embedMs = ms(tEmbed);

  const tSearch = performance.now();
  const lists = new Map<string, CorpusHit[]>();
  const calibration: Record<string, Calibration | undefined> = {};
  await Promise.all(
    records.map(async (rec) => {
      calibration[rec.name] = rec.calibration;
      if (rec.dim === null || !deps.vectors.hasIndex(rec.index)) {
        lists.set(rec.name, []);
        return;
      }
      const hits = await deps.vectors.search(rec.index, vectorFor(rec.model), perCorpusK, filter);
      lists.set(
        rec.name,
        hits.map((h) => {
          const { [TEXT_KEY]: text, ...metadata } = h.metadata;
          return { id: h.id, score: h.score, metadata, text: typeof text === "string" ? text : undefined };
        }),
      );
    }),
  );
  const searchMs = ms(tSearch);

  const tFuse = performance.now();
  const pc = deps.config.playbooks;
  const pbVector = input.query !== undefined ? queryVectors.get(deps.embed.defaultModel) : input.vector;
  const usePlaybooks = input.playbooks !== false && pbVector !== undefined && deps.playbooks.size > 0;
  if (usePlaybooks) {
    await recallPlaybookItems(lists, {
      query: unit(pbVector),
      model: deps.embed.defaultModel,
      minSimilarity: pc.min_similarity,
      playbooks: deps.playbooks,
      vectors: deps.vectors,
      records,
      vectorFor: (rec) => vectorFor(rec.model),
      accept: filterNode && compileFilter(filterNode),
      limit: input.k,
    });
  }
  const ordered = new Map(names.map((n) => [n, lists.get(n)!]));
  let fused = fuse(ordered, { method, rrfK: deps.config.rrf_k, weights: input.weights, calibration, dedupeKey: input.dedupe_key });
  let applied = new Map<unknown, Boost[]>();
  if (usePlaybooks) {
    const candidates = fused.flatMap((r) => r.sources.map((src) => itemKey(src.corpus, src.id)));
    const boosts = playbookBoosts(unit(pbVector), deps.playbooks.signalsFor(deps.embed.defaultModel, candidates), {
      minSimilarity: pc.min_similarity,
      weight: pc.weight,
      halfLifeDays: pc.half_life_days,
      unit: method === "rrf" ? 1 / (deps.config.rrf_k + 1) : 1,
      now: Date.now(),
    });
    if (boosts.size > 0) ({ results: fused, applied } = applyBoosts(fused, boosts));
  }
  const rel = applyRelevance(fused, { minScore: input.relevance?.min_score, requiredTerms: input.relevance?.required_terms, gap: input.relevance?.gap });
  const gate = decideGate(
    gateSignals(
      rel.kept.map((r) => ({ corpus: r.corpus, score: r.confidence })),
      names,
    ),
    deps.config.gate,
  );
  const results = rel.kept.slice(0, input.k).map((r) => {
    const item: SearchResultItem = { corpus: r.corpus, id: r.id, score: round(r.score, 6), metadata: r.metadata };
    if (input.explain) item.explain = { confidence: round(r.confidence, 6), sources: r.sources, boosts: applied.get(r) ?? [] };
    return item;
  });
  const fuseMs = ms(tFuse);
  return {
    results,
    gate,
    relevance: input.explain ? { dropped: rel.counts, drops: rel.drops } : { dropped: rel.counts },
    fusion: method === "rrf" ? { method, rrf_k: deps.config.rrf_k } : { method },
    timings: { embed_ms: embedMs, search_ms: searchMs, fuse_ms: fuseMs, total_ms: ms(t0) },
  };
}
