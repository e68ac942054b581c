// Equality postings (value → labels) for the top-level metadata fields that filters test with
// $eq or $in. A filtered search then starts from the labels that can match instead of testing
// every item: a 0.5% filter on 100K items reads 500 postings, not 100K metadata objects. A field's
// postings are built the first time a filter uses it (a field never filtered on costs nothing)
// and kept current by every write after that.
import type { Metadata } from "../filter/compile.ts";
import type { FilterNode, Scalar } from "../filter/parse.ts";

/** Fields with postings per index; filters on further fields fall back to a scan. */
export const MAX_POSTING_FIELDS = 16;

const EMPTY: ReadonlySet<number> = new Set();

const isScalar = (v: unknown): v is Scalar => v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** The values under which an item is found for `field`: its scalar value, or each scalar of its array. */
function keysOf(metadata: Metadata, field: string): Scalar[] {
  if (!metadata || !Object.hasOwn(metadata, field)) return [];
  const value = metadata[field];
  if (Array.isArray(value)) return value.filter(isScalar);
  return isScalar(value) ? [value] : [];
}

export class FieldPostings {
  private readonly fields = new Map<string, Map<Scalar, Set<number>>>();

  /** `items` lists every live label with its metadata (read once per field, when it is first used). */
  constructor(private readonly items: () => Iterable<readonly [number, Metadata]>) {}

  /** Labels whose `field` equals `value` or holds it in an array; null when no postings can be kept for the field. */
  get(field: string, value: Scalar): ReadonlySet<number> | null {
    const postings = this.field(field);
    return postings ? (postings.get(value) ?? EMPTY) : null;
  }

  /** Moves `label` from the postings of its old metadata to those of its new one (undefined: deleted). */
  replace(label: number, before: Metadata, after: Metadata): void {
    for (const [field, postings] of this.fields) {
      for (const key of keysOf(before, field)) {
        const set = postings.get(key);
        set?.delete(label);
        if (set?.size === 0) postings.delete(key);
      }
      for (const key of keysOf(after, field)) add(postings, key, label);
    }
  }

  private field(name: string): Map<Scalar, Set<number>> | null {
    const known = this.fields.get(name);
    if (known) return known;
    if (this.fields.size >= MAX_POSTING_FIELDS) return null;
    const postings = new Map<Scalar, Set<number>>();
    for (const [label, metadata] of this.items()) for (const key of keysOf(metadata, name)) add(postings, key, label);
    this.fields.set(name, postings);
    return postings;
  }
}

function add(postings: Map<Scalar, Set<number>>, key: Scalar, label: number): void {
  const set = postings.get(key);
  if (set) set.add(label);
  else postings.set(key, new Set([label]));
}

export interface Narrowed {
  /** How many labels `labels` yields at most (the parts of an $in may overlap). */
  size: number;
  labels: Iterable<number>;
}

/** Labels of several postings, each once (an array value can hold two of the values asked for). */
function* union(parts: readonly ReadonlySet<number>[]): Generator<number> {
  const seen = new Set<number>();
  for (const part of parts) {
    for (const label of part) {
      if (seen.has(label)) continue;
      seen.add(label);
      yield label;
    }
  }
}

/**
 * The smallest set of labels that must contain every match of `node`, from its top-level $eq and
 * $in conditions (the conjuncts of an $and, at any depth); null when it has none on a plain field.
 */
export function narrowest(node: FilterNode, postings: FieldPostings): Narrowed | null {
  let best: Narrowed | null = null;
  const visit = (n: FilterNode): void => {
    if (n.kind === "and") {
      for (const child of n.nodes) visit(child);
      return;
    }
    if ((n.kind !== "eq" && n.kind !== "in") || n.field.includes(".")) return;
    let found: Narrowed | null = null;
    if (n.kind === "eq") {
      const set = postings.get(n.field, n.value);
      if (set) found = { size: set.size, labels: set };
    } else {
      const parts = n.values.map((v) => postings.get(n.field, v));
      if (!parts.includes(null)) {
        const sets = parts as ReadonlySet<number>[];
        found = { size: sets.reduce((sum, p) => sum + p.size, 0), labels: { [Symbol.iterator]: () => union(sets) } };
      }
    }
    if (found && (best === null || found.size < best.size)) best = found;
  };
  visit(node);
  return best;
}
