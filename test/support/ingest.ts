// The one ingest helper: uploads a body to POST /v1/ingest/{name} on any target of ./http.ts.
import { type ClientOptions, call, type Target } from "./http.ts";

const TYPES: Record<string, string> = { csv: "text/csv", ndjson: "application/x-ndjson", parquet: "application/vnd.apache.parquet" };

export interface IngestOptions extends ClientOptions {
  /**
   * "csv", "ndjson", "parquet" or any media type, sent as content-type; "" sends none. Default
   * "csv", or none for a FormData body (a multipart upload, whose boundary fetch sets).
   */
  type?: string;
  /** Query options: mode, delimiter, header, nulls, … */
  query?: Record<string, string | number | boolean>;
}

/** The upload's response, as is. `name` goes into the path unencoded. */
export function ingest(target: Target, name: string, body: RequestInit["body"], opts: IngestOptions = {}): Promise<Response> {
  const { type = body instanceof FormData ? "" : "csv", query, ...client } = opts;
  const contentType = Object.hasOwn(TYPES, type) ? TYPES[type]! : type;
  const qs = query ? new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString() : "";
  return call(target, `/v1/ingest/${name}${qs ? `?${qs}` : ""}`, { method: "POST", headers: contentType ? { "content-type": contentType } : {}, body }, client);
}

/** An upload that must succeed: its result body, or an error naming the status and the body. */
export async function ingestOk(target: Target, name: string, body: RequestInit["body"], opts: IngestOptions = {}): Promise<any> {
  const res = await ingest(target, name, body, opts);
  if (res.status >= 300) throw new Error(`ingest ${name}: ${res.status} ${await res.text()}`);
  return res.json();
}
