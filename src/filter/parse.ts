// The metadata filter language shared by the vector and matrix modules, in the shape users know
// from MongoDB, Chroma and Pinecone: {"state": "IL", "rate": {"$lte": 22}, "$or": [...]}.
// Parsing is strict: an unknown operator or a malformed node is an error naming its path, never a
// silently ignored clause (the failure Mem0's users keep hitting). A string is the text form
// (`state = IL and hourly_rate <= 22`, see text.ts), turned into this shape first.
import { ValidationFailed } from "../errors.ts";
import { MAX_FILTER_DEPTH } from "./limits.ts";
import { FilterTextError, filterFromText } from "./text.ts";

export type Scalar = string | number | boolean | null;
/** A filter as callers send it: the object form, or the same language as text. */
export type FilterInput = Record<string, unknown> | string;
export type CompareOp = "$gt" | "$gte" | "$lt" | "$lte";

export type FilterNode =
  | { kind: "and"; nodes: FilterNode[] }
  | { kind: "or"; nodes: FilterNode[] }
  | { kind: "not"; node: FilterNode }
  | { kind: "eq"; field: string; value: Scalar }
  | { kind: "ne"; field: string; value: Scalar }
  | { kind: "in"; field: string; values: Scalar[] }
  | { kind: "nin"; field: string; values: Scalar[] }
  | { kind: "cmp"; field: string; op: CompareOp; value: number | string }
  | { kind: "exists"; field: string; value: boolean };

const COMPARE_OPS = new Set<string>(["$gt", "$gte", "$lt", "$lte"]);

class FilterError extends Error {
  constructor(
    readonly path: string,
    message: string,
    opts?: ErrorOptions,
  ) {
    super(message, opts);
  }
}

const isScalar = (x: unknown): x is Scalar => x === null || typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x));

const isPlainObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

const join = (path: string, key: string | number) => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/**
 * Parses a filter document into a tree. Throws ValidationFailed whose details name the bad node as
 * `[{path, message}]`, the path prefixed with `root` (e.g. "filter.$or[1].shift.$in").
 */
export function parseFilter(input: unknown, root = "filter"): FilterNode {
  try {
    return parseDoc(typeof input === "string" ? fromText(input, root) : input, root, 0);
  } catch (err) {
    if (err instanceof FilterError) {
      throw new ValidationFailed(`invalid filter at ${err.path}: ${err.message}`, [{ path: err.path, message: err.message }], { cause: err.cause });
    }
    throw err;
  }
}

function fromText(text: string, root: string): Record<string, unknown> {
  try {
    return filterFromText(text);
  } catch (err) {
    if (err instanceof FilterTextError) throw new FilterError(root, err.message, { cause: err });
    throw err;
  }
}

function parseDoc(input: unknown, path: string, depth: number): FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw new FilterError(path, `filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
  if (!isPlainObject(input)) throw new FilterError(path, "expected an object");
  const nodes: FilterNode[] = [];
  for (const [key, value] of Object.entries(input)) {
    const at = join(path, key);
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value) || value.length === 0) throw new FilterError(at, `${key} takes a non-empty array of filters`);
      const children = value.map((child, i) => parseDoc(child, join(at, i), depth + 1));
      nodes.push({ kind: key === "$and" ? "and" : "or", nodes: children });
    } else if (key === "$not") {
      nodes.push({ kind: "not", node: parseDoc(value, at, depth + 1) });
    } else if (key.startsWith("$")) {
      throw new FilterError(at, `unknown operator ${key}; combinators are $and, $or, $not`);
    } else {
      if (key === "") throw new FilterError(at, "field names must not be empty");
      nodes.push(...parseCondition(key, value, at));
    }
  }
  return nodes.length === 1 ? nodes[0]! : { kind: "and", nodes };
}

function parseCondition(field: string, value: unknown, path: string): FilterNode[] {
  if (isScalar(value)) return [{ kind: "eq", field, value }];
  if (!isPlainObject(value)) throw new FilterError(path, "expected a string, number, boolean, null or an operator object");
  const ops = Object.entries(value);
  if (ops.length === 0) throw new FilterError(path, "operator object is empty");
  return ops.map(([op, arg]) => parseOperator(field, op, arg, join(path, op)));
}

function parseOperator(field: string, op: string, arg: unknown, path: string): FilterNode {
  switch (op) {
    case "$eq":
    case "$ne":
      if (!isScalar(arg)) throw new FilterError(path, `${op} takes a string, number, boolean or null`);
      return { kind: op === "$eq" ? "eq" : "ne", field, value: arg };
    case "$in":
    case "$nin": {
      if (!Array.isArray(arg)) throw new FilterError(path, `${op} takes an array`);
      arg.forEach((x, i) => {
        if (!isScalar(x)) throw new FilterError(join(path, i), `${op} values must be strings, numbers, booleans or null`);
      });
      return { kind: op === "$in" ? "in" : "nin", field, values: arg as Scalar[] };
    }
    case "$exists":
      if (typeof arg !== "boolean") throw new FilterError(path, "$exists takes true or false");
      return { kind: "exists", field, value: arg };
    default:
      if (COMPARE_OPS.has(op)) {
        if (typeof arg !== "string" && !(typeof arg === "number" && Number.isFinite(arg))) {
          throw new FilterError(path, `${op} takes a number or a string`);
        }
        return { kind: "cmp", field, op: op as CompareOp, value: arg };
      }
      throw new FilterError(path, `unknown operator ${op}; operators are $eq $ne $in $nin $gt $gte $lt $lte $exists`);
  }
}
