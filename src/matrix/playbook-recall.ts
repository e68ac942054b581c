// Items a similar past query succeeded with can sit below a corpus's per_corpus_k cut, where no
// boost could reach them. They are brought into their corpus's list, scored exactly against the
// query, when they still exist and still pass the search's filter; the boost then applies as usual.
import type { Predicate } from "../filter/compile.ts";
import { storedDoc } from "./stored.ts";
import { unit } from "./calibration.ts";
import type { CorpusRecord } from "./corpus-store.ts";
import type { CorpusHit } from "./fusion.ts";
import { dot } from "./playbook-boost.ts";
import type { Playbooks } from "./playbooks.ts";
import type { VectorPort } from "../ports.ts";

export interface RecallInput {
  /** Unit query vector of the playbooks' model. */
  query: readonly number[];
  model: string;
  minSimilarity: number;
  playbooks: Playbooks;
  vectors: VectorPort;
  records: readonly CorpusRecord[];
  /**
   * The query vector to score a corpus's items with (its own model's); undefined when the search
   * embedded none for that model (a lexical search embeds only the playbooks' model, and rescores
   * what is recalled by BM25): such items come in with score 0.
   */
  vectorFor: (rec: CorpusRecord) => readonly number[] | undefined;
  accept?: Predicate;
  /**
   * Most items brought back: the most similar playbooks carry the largest boosts, and only
   * about k recalled items could reach the top k anyway.
   */
  limit: number;
}

/** Adds the missing items to `lists` in score order; returns how many were added. */
export async function recallPlaybookItems(lists: Map<string, CorpusHit[]>, input: RecallInput): Promise<number> {
  let added = 0;
  const byName = new Map(input.records.map((r) => [r.name, r]));
  const queries = new Map<string, number[] | null>();
  for (const p of input.playbooks.successesSimilarTo(input.model, input.query, input.minSimilarity)) {
    if (added >= input.limit) break;
    const rec = byName.get(p.corpus);
    const list = lists.get(p.corpus);
    if (!rec || !list || list.some((h) => h.id === p.item_id)) continue;
    // Most similar playbooks may point at items the filter rules out: test the metadata before
    // copying a vector out of the index.
    const stored = input.vectors.metadata(rec.index, p.item_id);
    if (stored === undefined) continue;
    const { text, metadata } = storedDoc(stored);
    if (input.accept && !input.accept(metadata)) continue;
    const item = await input.vectors.get(rec.index, p.item_id);
    if (!item) continue;
    let query = queries.get(rec.name);
    if (query === undefined) {
      const vector = input.vectorFor(rec);
      query = vector === undefined ? null : unit(vector);
      queries.set(rec.name, query);
    }
    const hit: CorpusHit = { id: item.id, score: query === null ? 0 : dot(query, unit(item.vector)), metadata, text };
    const at = list.findIndex((h) => h.score < hit.score);
    list.splice(at === -1 ? list.length : at, 0, hit);
    added++;
  }
  return added;
}
