// An index's parameters, pure: one schema holds their bounds, for a create request and for a
// manifest read back from the store alike (a manifest outside them is a damaged index).
import * as v from "valibot";
import { ValidationFailed } from "../errors.ts";
import type { GraphParams } from "./hnsw.ts";
import type { Metric } from "./vectors.ts";

const INDEX_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const isIndexName = (name: string): boolean => INDEX_NAME.test(name);
const MAX_DIM = 16_384;
export const METRICS = ["cosine", "l2", "ip"] as const satisfies readonly Metric[];

const intIn = (min: number, max: number, message: string) => v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));

export const IndexParamsSchema = v.object({
  name: v.pipe(v.string(), v.regex(INDEX_NAME, "1-128 letters, digits, '_' or '-', starting with a letter or digit")),
  dim: intIn(1, MAX_DIM, `an integer from 1 to ${MAX_DIM}`),
  metric: v.picklist(METRICS, "one of cosine, l2, ip"),
  m: intIn(2, 128, "an integer from 2 to 128"),
  ef_construction: intIn(1, 4096, "an integer from 1 to 4096"),
  ef_search: intIn(1, 4096, "an integer from 1 to 4096"),
});

export type IndexParams = v.InferOutput<typeof IndexParamsSchema>;

export interface CreateIndexInput {
  name: string;
  dim: number;
  metric?: Metric;
  m?: number;
  ef_construction?: number;
  ef_search?: number;
}

export interface ParamDefaults {
  default_m: number;
  default_ef_construction: number;
  default_ef_search: number;
}

/** The parameters of a new index: the input over the configured defaults, checked; the first bad one is a 400 naming it. */
export function resolveParams(input: CreateIndexInput, c: ParamDefaults): IndexParams {
  const params = {
    name: input.name,
    dim: input.dim,
    metric: input.metric ?? "cosine",
    m: input.m ?? c.default_m,
    ef_construction: input.ef_construction ?? c.default_ef_construction,
    ef_search: input.ef_search ?? c.default_ef_search,
  };
  const checked = v.safeParse(IndexParamsSchema, params);
  if (checked.success) return checked.output;
  const issue = checked.issues[0];
  const path = String(issue.path?.[0]?.key ?? "");
  throw new ValidationFailed(`${path}: ${issue.message}`, [{ path, message: issue.message }]);
}

export const graphParamsOf = (p: IndexParams): GraphParams => ({ dim: p.dim, metric: p.metric, m: p.m, efConstruction: p.ef_construction });
