// One matrix search: embed the query once per model, search every corpus with the filter applied
// inside each index — by vector, by BM25 (lexical) or both (hybrid, merged per corpus by
// hybrid.ts) — fuse across corpora, apply playbook boosts, cut for relevance, decide the gate.
import { ValidationFailed } from "../errors.ts";
import { compileFilter } from "../filter/compile.ts";
import { type FilterInput, parseFilter } from "../filter/parse.ts";
import { unit } from "./calibration.ts";
import type { MatrixConfig } from "./config.ts";
import type { Corpora } from "./corpora.ts";
import { type Calibration, type CorpusHit, type FusionMethod, fuse, type Source } from "./fusion.ts";
import { literalWords } from "./fields.ts";
import type { SearchMode } from "./hybrid.ts";
import { hybridList } from "./hybrid-list.ts";
import type { LexicalIndexes } from "./lexical/indexes.ts";
import { queryCoverage } from "./lexical/coverage.ts";
import { lexicalHits, lexicalScores } from "./lexical/search.ts";
import { decideGate, type GateDecision, gateSignals } from "./gate.ts";
import { applyBoosts, type Boost, itemKey, playbookBoosts } from "./playbook-boost.ts";
import { recallPlaybookItems } from "./playbook-recall.ts";
import type { Playbooks } from "./playbooks.ts";
import type { EmbedPort, VectorPort } from "../ports.ts";
import { applyRelevance, type Drop, type DropReason, round } from "./relevance.ts";
import { storedDoc } from "./stored.ts";

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
  /** hybrid (default with a query), vector (default with a vector) or lexical. */
  mode?: SearchMode;
  /** Hybrid: the lexical part's weight against the vector part's 1 (default matrix.lexical_weight). */
  lexical_weight?: number;
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
  fusion: { method: FusionMethod; rrf_k?: number; mode: SearchMode; lexical_weight?: number };
  timings: { embed_ms: number; search_ms: number; lexical_ms: number; fuse_ms: number; total_ms: number };
  /** Items of the corpora's vector indexes not yet in their graphs, scored exactly instead (catch-up after a build or a restart). */
  pending_scanned: number;
}

export interface SearchDeps {
  corpora: Corpora;
  vectors: VectorPort;
  embed: EmbedPort;
  playbooks: Playbooks;
  lexical: LexicalIndexes;
  config: MatrixConfig;
}

/** Hybrid: lexical candidates per corpus, per result asked for (k). */
const HYBRID_LEXICAL_PER_K = 2;

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
  const mode: SearchMode = input.mode ?? (input.query !== undefined ? "hybrid" : "vector");
  if (mode !== "vector" && input.query === undefined)
    throw new ValidationFailed(`${mode} search needs query text`, [{ path: "mode", message: `${mode} needs query (give query, or mode "vector")` }]);
  const lexicalWeight = input.lexical_weight ?? deps.config.lexical_weight;
  const accept = filterNode && compileFilter(filterNode);
  const wantPlaybooks = input.playbooks !== false && deps.playbooks.size > 0;

  // One query embedding per model among the searched corpora (and the default one, for playbooks);
  // a lexical search embeds only for the playbooks.
  const tEmbed = performance.now();
  const queryVectors = new Map<string, readonly number[]>();
  const modelOf = (m: string | undefined) => m ?? deps.embed.defaultModel;
  if (input.query !== undefined) {
    const models =
      mode === "lexical"
        ? new Set(wantPlaybooks ? [deps.embed.defaultModel] : [])
        : new Set([...records.map((r) => modelOf(r.model)), deps.embed.defaultModel]);
    for (const model of models) {
      const out = await deps.embed.embed([input.query], model === deps.embed.defaultModel ? undefined : model);
      queryVectors.set(model, out.vectors[0]!);
    }
  }
  const vectorFor = (model: string | undefined) => input.vector ?? queryVectors.get(modelOf(model))!;
  const embedMs = ms(tEmbed);

  const tSearch = performance.now();
  let searchMs = 0;
  let pendingScanned = 0;
  const lists = new Map<string, CorpusHit[]>();
  const lexLists = new Map<string, CorpusHit[]>();
  const calibration: Record<string, Calibration | undefined> = {};
  // Started, not awaited: the BM25 part below runs on this thread while the vector searches are
  // out (the graph search may run off the main thread), then both are joined.
  const vectorSearches = Promise.all(
    records.map(async (rec) => {
      calibration[rec.name] = rec.calibration;
      if (mode === "lexical" || rec.dim === null || !deps.vectors.hasIndex(rec.index)) {
        lists.set(rec.name, []);
        return;
      }
      const { hits, pending_scanned } = await deps.vectors.searchCounted(rec.index, vectorFor(rec.model), perCorpusK, filter);
      pendingScanned += pending_scanned;
      lists.set(
        rec.name,
        hits.map((h) => ({ id: h.id, score: h.score, ...storedDoc(h.metadata) })),
      );
    }),
  ).then(() => {
    searchMs = ms(tSearch);
  });
  vectorSearches.catch(() => {}); // awaited below; this only keeps it from counting as unhandled meanwhile

  // BM25 per corpus, each index waited for if it is still loading after a start. In hybrid its
  // list only adds candidates the vector part missed: 2k of them ranked the labelled set as 50
  // did (docs/matrix.md) and cost a filter far fewer checks (a filter is tested candidate by
  // candidate until enough pass).
  const lexicalK = mode === "hybrid" ? Math.min(perCorpusK, HYBRID_LEXICAL_PER_K * input.k) : perCorpusK;
  const tLexical = performance.now();
  const lexical = new Map(await Promise.all(records.map(async (rec) => [rec.name, mode === "vector" ? undefined : await deps.lexical.get(rec.name)] as const)));
  for (const rec of records) {
    const index = lexical.get(rec.name);
    lexLists.set(rec.name, index ? lexicalHits(index, deps.vectors, rec.index, input.query!, lexicalK, filter) : []);
  }
  const lexicalMs = ms(tLexical);
  await vectorSearches;

  const tFuse = performance.now();
  const pc = deps.config.playbooks;
  const pbVector = input.query !== undefined ? queryVectors.get(deps.embed.defaultModel) : input.vector;
  const usePlaybooks = wantPlaybooks && pbVector !== undefined;
  if (usePlaybooks) {
    // Recalled items are scored by vector; a lexical search rescores them by BM25 below.
    const into = mode === "lexical" ? lexLists : lists;
    const before = new Map([...into].map(([n, l]) => [n, new Set(l.map((h) => h.id))]));
    await recallPlaybookItems(into, {
      query: unit(pbVector),
      model: deps.embed.defaultModel,
      minSimilarity: pc.min_similarity,
      playbooks: deps.playbooks,
      vectors: deps.vectors,
      records,
      vectorFor: (rec) => vectorFor(rec.model),
      accept,
      limit: input.k,
    });
    if (mode === "lexical") {
      for (const [name, list] of lexLists) {
        const added = list.filter((h) => !before.get(name)!.has(h.id));
        if (added.length === 0) continue;
        const index = lexical.get(name);
        const exact = index
          ? lexicalScores(
              index,
              input.query!,
              added.map((h) => h.id),
            )
          : new Map<string, number>();
        for (const h of added) h.score = exact.get(h.id) ?? 0;
        list.sort((a, b) => b.score - a.score);
      }
    }
  }
  if (mode === "lexical") {
    for (const rec of records) calibration[rec.name] = rec.lexical_calibration;
    for (const [name, list] of lexLists) lists.set(name, list);
  } else if (mode === "hybrid") {
    for (const rec of records) {
      lists.set(
        rec.name,
        await hybridList(
          deps.vectors,
          rec,
          input.query!,
          lists.get(rec.name)!,
          lexLists.get(rec.name)!,
          lexical.get(rec.name),
          vectorFor(rec.model),
          lexicalWeight,
        ),
      );
      // Hybrid scores are standard scores already.
      calibration[rec.name] = { mean: 0, std: 1 };
    }
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
  const coverage =
    input.query === undefined
      ? undefined
      : queryCoverage(
          input.query,
          await Promise.all(records.map((rec) => lexical.get(rec.name) ?? deps.lexical.get(rec.name))),
          // The literal words of the templates ("shift" in "{shift_preference} shift") count as known.
          { commonWord: deps.embed.commonWord, literal: new Set(records.flatMap((rec) => literalWords(rec.text))) },
        );
  const gate = decideGate(
    gateSignals(
      rel.kept.map((r) => ({ corpus: r.corpus, score: r.confidence })),
      names,
      coverage,
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
    fusion: {
      method,
      ...(method === "rrf" ? { rrf_k: deps.config.rrf_k } : {}),
      mode,
      ...(mode === "hybrid" ? { lexical_weight: lexicalWeight } : {}),
    },
    timings: { embed_ms: embedMs, search_ms: searchMs, lexical_ms: lexicalMs, fuse_ms: fuseMs, total_ms: ms(t0) },
    pending_scanned: pendingScanned,
  };
}
