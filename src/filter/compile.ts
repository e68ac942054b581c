// Turns a parsed filter into a predicate over one item's metadata. Semantics follow MongoDB:
// a field may be a dotted path into nested objects; an array value matches $eq/$in when any
// element does; $ne and $nin also match items without the field; comparisons only compare a
// number with a number and a string with a string.
import { type CompareOp, type FilterNode, parseFilter, type Scalar } from "./parse.ts";

export type Metadata = Record<string, unknown> | null | undefined;
export type Predicate = (metadata: Metadata) => boolean;

const MISSING = Symbol("missing");

// Predicates run once per item on an exact scan (100K items per search), so the common cases
// avoid allocation: no closure per call, and an own-property check only when the value read could
// have come from the prototype (undefined, an object or a function; JSON never holds a function).
function lookup(metadata: Metadata, path: readonly string[]): unknown {
  let cur: unknown = metadata;
  for (let i = 0; i < path.length; i++) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return MISSING;
    const part = path[i]!;
    const next = (cur as Record<string, unknown>)[part];
    if ((next === undefined || typeof next === "object" || typeof next === "function") && !Object.hasOwn(cur, part)) return MISSING;
    cur = next;
  }
  return cur;
}

function compare(op: CompareOp, a: unknown, b: number | string): boolean {
  if (typeof a !== typeof b) return false;
  const x = a as number | string;
  switch (op) {
    case "$gt":
      return x > b;
    case "$gte":
      return x >= b;
    case "$lt":
      return x < b;
    case "$lte":
      return x <= b;
  }
}

export function compileFilter(node: FilterNode): Predicate {
  switch (node.kind) {
    case "and": {
      const parts = node.nodes.map(compileFilter);
      return (m) => parts.every((p) => p(m));
    }
    case "or": {
      const parts = node.nodes.map(compileFilter);
      return (m) => parts.some((p) => p(m));
    }
    case "not": {
      const inner = compileFilter(node.node);
      return (m) => !inner(m);
    }
    case "exists": {
      const path = node.field.split(".");
      return (m) => (lookup(m, path) !== MISSING) === node.value;
    }
    case "eq":
    case "ne": {
      const path = node.field.split(".");
      const want = node.value;
      const eq = (m: Metadata) => {
        const got = lookup(m, path);
        return got === want || (Array.isArray(got) && got.includes(want));
      };
      return node.kind === "eq" ? eq : (m) => !eq(m);
    }
    case "in":
    case "nin": {
      const path = node.field.split(".");
      const set = new Set<Scalar>(node.values);
      const member = (m: Metadata) => {
        const got = lookup(m, path);
        return set.has(got as Scalar) || (Array.isArray(got) && got.some((x) => set.has(x as Scalar)));
      };
      return node.kind === "in" ? member : (m) => !member(m);
    }
    case "cmp": {
      const path = node.field.split(".");
      const { op, value } = node;
      return (m) => {
        const got = lookup(m, path);
        return Array.isArray(got) ? got.some((x) => compare(op, x, value)) : compare(op, got, value);
      };
    }
  }
}

/** Parses and compiles in one step; throws ValidationFailed naming the bad node (see parseFilter). */
export function filterPredicate(input: unknown, root = "filter"): Predicate {
  return compileFilter(parseFilter(input, root));
}
