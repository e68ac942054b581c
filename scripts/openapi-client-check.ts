// A small client typed only by what openapi-typescript generates from our OpenAPI document, as an
// outside user would write one. scripts/check-openapi.sh generates tmp/openapi/lakehouse-api.ts and
// compiles this file with `tsc --strict` and the DOM library (no Bun or Node types): when the
// document stops describing a result, a request body or the error envelope, this stops compiling.
// It is never run. (Excluded from the project's tsconfig, since the types it imports are generated.)
import type { components, paths } from "../tmp/openapi/lakehouse-api.ts";

type Method = "get" | "put" | "post" | "delete" | "patch";
type ApiError = components["schemas"]["Error"];
type SuccessStatus = 200 | 201 | 202 | 204;
type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 415 | 416 | 422 | 500 | 501 | 502 | 503 | 504 | "default";

type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
type Responses<O> = O extends { responses: infer R } ? R : never;
type Success<O> = { [S in keyof Responses<O> & SuccessStatus]: JsonOf<Responses<O>[S]> }[keyof Responses<O> & SuccessStatus];
type Failure<O> = { [S in keyof Responses<O> & ErrorStatus]: JsonOf<Responses<O>[S]> }[keyof Responses<O> & ErrorStatus];

type PathOptions<O> = O extends { parameters: { path: infer A } } ? { path: A } : { path?: undefined };
type QueryOptions<O> = O extends { parameters: { query: infer Q } } ? { query: Q } : O extends { parameters: { query?: infer Q } } ? { query?: Q } : object;
type BodyOptions<O> = O extends { requestBody: { content: { "application/json": infer B } } } ? { body: B } : { body?: undefined };
type Options<O> = PathOptions<O> & QueryOptions<O> & BodyOptions<O>;

type Enveloped<T> = [T] extends [never] ? false : [T] extends [ApiError] ? true : false;
/** Every error answer of every operation carries the envelope: the names of those that do not. */
type BareErrorsOf<P extends keyof paths> = {
  [M in Method]: [Operation<P, M>] extends [never]
    ? never
    : {
        [S in keyof Responses<Operation<P, M>> & ErrorStatus]: Enveloped<JsonOf<Responses<Operation<P, M>>[S]>> extends true
          ? never
          : `${M} ${P & string} ${S}`;
      }[keyof Responses<Operation<P, M>> & ErrorStatus];
}[Method];
type BareErrors = { [P in keyof paths]: BareErrorsOf<P> }[keyof paths];
// A compile error here ("missing the following properties") names each operation and status whose
// error answer has no Error content.
export const everyErrorHasTheEnvelope: { [Bare in BareErrors]: "has no application/json Error content" } = {};

export type Result<O> = { ok: true; status: number; data: Success<O> } | { ok: false; status: number; error: Failure<O> };

export interface Client {
  baseUrl: string;
  token: string;
}

/** One typed call: the path, method, inputs and both outcomes all come from the generated types. */
export async function call<P extends keyof paths, M extends Method>(
  client: Client,
  method: M,
  path: P,
  options: Options<Operation<P, M>>,
): Promise<Result<Operation<P, M>>> {
  const opts = options as { path?: Record<string, string | number>; query?: Record<string, string | number | boolean>; body?: unknown };
  const url = new URL(client.baseUrl + String(path).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(opts.path?.[name] ?? ""))));
  for (const [key, value] of Object.entries(opts.query ?? {})) url.searchParams.set(key, String(value));
  const headers: Record<string, string> = { authorization: `Bearer ${client.token}` };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method: method.toUpperCase(), headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const json = res.status === 204 ? undefined : await res.json();
  return res.ok
    ? { ok: true, status: res.status, data: json as Success<Operation<P, M>> }
    : { ok: false, status: res.status, error: json as Failure<Operation<P, M>> };
}

/** Every error answer is the envelope, whatever the operation. */
function describe(error: ApiError, status: number): Error {
  return new Error(`${status} ${error.error.code}: ${error.error.message}`);
}

export async function firstDatasetName(client: Client): Promise<string | undefined> {
  const res = await call(client, "get", "/v1/catalog/datasets", {});
  if (!res.ok) throw describe(res.error, res.status);
  if (res.data.datasets.length === 0) return undefined;
  const name: string = res.data.datasets[0].name;
  const rows: number = res.data.datasets[0].row_count;
  // @ts-expect-error a typed result has no field the document does not declare
  res.data.datasets[0].no_such_field;
  return `${name} (${rows} rows)`;
}

export async function nearest(client: Client, index: string, vector: number[]): Promise<{ id: string; score: number }[]> {
  const res = await call(client, "post", "/v1/vectors/indexes/{name}/search", { path: { name: index }, body: { vector, k: 5 } });
  if (!res.ok) throw describe(res.error, res.status);
  return res.data.hits.map((hit) => ({ id: hit.id, score: hit.score }));
}

export async function searchNeedsItsInputs(client: Client): Promise<void> {
  // @ts-expect-error the search body requires k
  await call(client, "post", "/v1/vectors/indexes/{name}/search", { path: { name: "docs" }, body: { vector: [0.1] } });
  // @ts-expect-error the path parameter is required
  await call(client, "post", "/v1/vectors/indexes/{name}/search", { body: { vector: [0.1], k: 1 } });
  // @ts-expect-error the catalog list takes no PUT
  await call(client, "put", "/v1/catalog/datasets", {});
}
