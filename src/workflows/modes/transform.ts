// Mode `transform`: reshape a JSON value with no code: filter an array's elements with the shared
// filter language, pick and rename fields (dotted paths), keep the first `limit`, or take the first
// element alone. `from` is usually a reference ({{steps.search.output.results}}); a literal object
// holding references builds a new value.
import * as v from "valibot";
import { ValidationFailed } from "../../errors.ts";
import { filterPredicate } from "../../filter/compile.ts";
import type { FieldIssue } from "../../lib/validate.ts";
import { ownMode } from "./mode.ts";

const Path = v.pipe(v.string(), v.regex(/^[^.\s]+(\.[^.\s]+)*$/, "a field or dotted path, e.g. metadata.city"));

const Input = v.strictObject({
  from: v.pipe(v.unknown(), v.metadata({ type: "object" }), v.description("the value to transform")),
  filter: v.optional(
    v.pipe(v.union([v.string(), v.record(v.string(), v.unknown())]), v.description("keeps the array elements that match (shared filter language)")),
  ),
  pick: v.optional(v.pipe(v.array(Path), v.minLength(1), v.description("fields to keep, dotted paths; a kept nested field keeps its nesting"))),
  rename: v.optional(v.pipe(v.record(v.string(), v.string()), v.description("top-level field → new name, after pick"))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  first: v.optional(v.pipe(v.boolean(), v.description("the first element of the array (null when it is empty) instead of the array"))),
  count: v.optional(v.pipe(v.boolean(), v.description("{value, count}: the result and how many elements it has"))),
});
type In = v.InferOutput<typeof Input>;

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);

function pickFrom(value: unknown, paths: readonly string[]): unknown {
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const parts = path.split(".");
    let src: unknown = value;
    for (const p of parts) src = isObject(src) && Object.hasOwn(src, p) ? src[p] : undefined;
    if (src === undefined) continue;
    let dst = out;
    for (const p of parts.slice(0, -1)) {
      if (!isObject(dst[p])) dst[p] = {};
      dst = dst[p] as Record<string, unknown>;
    }
    dst[parts.at(-1)!] = src;
  }
  return out;
}

function renameIn(value: unknown, names: Record<string, string>): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, x]) => [names[k] ?? k, x]));
}

export function transformValue(input: In): unknown {
  const each = (x: unknown) => {
    let out = x;
    if (input.pick) out = pickFrom(out, input.pick);
    if (input.rename) out = renameIn(out, input.rename);
    return out;
  };
  let value: unknown = input.from;
  if (Array.isArray(value)) {
    let items: unknown[] = value;
    if (input.filter !== undefined) {
      const match = filterPredicate(input.filter, "filter");
      items = items.filter((x) => match(isObject(x) ? x : { value: x }));
    }
    if (input.limit !== undefined) items = items.slice(0, input.limit);
    items = items.map(each);
    value = input.first ? (items[0] ?? null) : items;
  } else {
    if (input.filter !== undefined && !filterPredicate(input.filter, "filter")(isObject(value) ? value : { value })) value = null;
    else value = each(value);
  }
  if (!input.count) return value;
  return { value, count: Array.isArray(value) ? value.length : value === null ? 0 : 1 };
}

export default ownMode({
  name: "transform",
  summary: "pick, rename, filter (shared filter language) and limit over a JSON value; no code runs",
  input: Input,
  output: v.pipe(v.unknown(), v.metadata({ type: "object" }), v.description("the transformed value")),
  check: (input) => {
    const filter = (input as In).filter;
    // A filter holding references is checked when it runs, once they have values.
    if (filter === undefined || JSON.stringify(filter).includes("{{")) return [];
    try {
      filterPredicate(filter, "filter");
      return [];
    } catch (err) {
      return err instanceof ValidationFailed ? (err.details as FieldIssue[]) : [{ path: "filter", message: String(err) }];
    }
  },
  run: async (input) => transformValue(input as In),
});
