// Small request helpers for the lakehouse tests (ingest and SQL), in-process or over HTTP.
import type { Lakehouse } from "../../src/app.ts";
import { call } from "../helpers/app.ts";

export type Target = Lakehouse | string;

export function request(target: Target, path: string, init: RequestInit = {}): Promise<Response> {
  return typeof target === "string" ? fetch(`${target}${path}`, init) : call(target, path, init);
}

export function ingest(target: Target, name: string, body: RequestInit["body"], contentType = "text/csv", query = ""): Promise<Response> {
  return request(target, `/v1/ingest/${name}${query ? `?${query}` : ""}`, { method: "POST", headers: contentType ? { "content-type": contentType } : {}, body });
}

export function sql(target: Target, statement: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return request(target, "/v1/sql", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ sql: statement, ...extra }) });
}

export async function rows(target: Target, statement: string, params?: unknown): Promise<unknown[][]> {
  const res = await sql(target, statement, params === undefined ? {} : { params });
  const body = (await res.json()) as { rows: unknown[][] };
  if (res.status !== 200) throw new Error(`SQL failed with ${res.status}: ${JSON.stringify(body)}`);
  return body.rows;
}

/** Response bodies in tests are checked by value, so they are read untyped. */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted by value
export const loose = (x: unknown): any => x;
