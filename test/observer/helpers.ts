// Helpers for the observer tests: short calls to its routes.
import { call, json, post, type Target } from "../support/http.ts";

export const O = "/v1/observer";

export async function postEvents(t: Target, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await post(t, `${O}/events`, body);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function reviewOf(t: Target, body: unknown): Promise<{ status: number; body: any }> {
  const res = await post(t, `${O}/review`, body);
  return { status: res.status, body: await res.json() };
}

export const get = (t: Target, path: string) => json(call(t, `${O}${path}`));

export const ev = (i: number, extra: Record<string, unknown> = {}) => ({ source: "agent", kind: "step", payload: { i }, ...extra });
