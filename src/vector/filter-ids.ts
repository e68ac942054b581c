// A filter's answer by item id, for callers outside the index (the matrix's lexical side): an
// acceptor (is id X in?) and, when the postings answer the filter exactly, the passing ids. Both
// come from the index's filter plan (filter-plan.ts), so neither reads metadata the postings cover.
import { parseFilter } from "../filter/parse.ts";
import type { Metadata } from "../filter/compile.ts";
import type { FieldPostings } from "./field-postings.ts";
import { planFilter } from "./filter-plan.ts";

/** What of an index the two need, read as it is at the call. */
export interface IdView {
  idToLabel: ReadonlyMap<string, number>;
  labelId: readonly (string | undefined)[];
  labelLimit: number;
  postings: FieldPostings;
  metaOf: (label: number) => Metadata;
}

/** Whether an id passes `filter` (undefined: whether it is in the index); false for unknown ids. */
export function acceptorFor(view: IdView, filter: unknown): (id: string) => boolean {
  const live = view.idToLabel;
  if (filter === undefined) return (id) => live.has(id);
  const plan = planFilter(parseFilter(filter), view.postings, view.metaOf);
  if (!plan.candidates) {
    return (id) => {
      const label = live.get(id);
      return label !== undefined && plan.accepts(label);
    };
  }
  const bits = new Uint8Array((view.labelLimit + 7) >> 3);
  for (const label of plan.candidates) bits[label >> 3]! |= 1 << (label & 7);
  const { exact, refine } = plan;
  return (id) => {
    const label = live.get(id);
    return label !== undefined && (bits[label >> 3]! & (1 << (label & 7))) !== 0 && (exact || refine(label));
  };
}

/** The ids passing `filter` when the postings answer it exactly; null otherwise. */
export function exactIdsFor(view: IdView, filter: unknown): string[] | null {
  const plan = planFilter(parseFilter(filter), view.postings, view.metaOf);
  if (!plan.candidates || !plan.exact) return null;
  const ids = new Array<string>(plan.candidates.length);
  for (let i = 0; i < plan.candidates.length; i++) ids[i] = view.labelId[plan.candidates[i]!]!;
  return ids;
}
