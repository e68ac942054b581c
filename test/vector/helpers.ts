// Searches through /v1/vectors for the vector tests.
import type { Lakehouse } from "../../src/app.ts";
import { ok, post } from "../support/http.ts";

export async function searchIds(lh: Lakehouse, name: string, req: Record<string, unknown>): Promise<string[]> {
  const { hits } = await ok<{ hits: { id: string }[] }>(post(lh, `/v1/vectors/indexes/${name}/search`, req));
  return hits.map((h) => h.id);
}
