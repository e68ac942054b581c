// Calls to /v1/vectors for the tests.
import type { Lakehouse } from "../../src/app.ts";
import { call } from "../helpers/app.ts";

export function send(lh: Lakehouse, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  return call(lh, `/v1/vectors${path}`, init);
}

export async function ok<T = any>(res: Promise<Response> | Response): Promise<T> {
  const r = await res;
  const body = await r.json();
  if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${JSON.stringify(body)}`);
  return body as T;
}

export async function searchIds(lh: Lakehouse, name: string, req: Record<string, unknown>): Promise<string[]> {
  const { hits } = await ok<{ hits: { id: string }[] }>(send(lh, "POST", `/indexes/${name}/search`, req));
  return hits.map((h) => h.id);
}
