// Helpers for the pathway tests: a lakehouse and short calls to its pathway routes.
import type { Lakehouse } from "../../src/app.ts";
import { call, json, post, send, type Target } from "../support/http.ts";

export const P = "/v1/pathway";

export async function add(t: Target, body: unknown): Promise<{ status: number; body: any }> {
  const res = await post(t, `${P}/traces`, body);
  return { status: res.status, body: await res.json() };
}

export async function req(t: Target, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await send(t, method, `${P}${path}`, body);
  return { status: res.status, body: await res.json() };
}

export const get = (t: Target, path: string) => json(call(t, `${P}${path}`));

/** Waits for the vector catch-up of start-up (a fresh module has none). */
export const ready = (lh: Lakehouse) => lh.pathway.caughtUp;
