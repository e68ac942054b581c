// API helpers and the corpus spec shared by the matrix tests; the workers dataset itself is
// ../support/staffing.ts.
import type { Lakehouse } from "../../src/app.ts";
import { call, json, post } from "../support/http.ts";

/** Starts a corpus build over the API and waits for it to end. */
export async function buildCorpus(lh: Lakehouse & { matrix: { corpora: { settled(n: string): Promise<void> } } }, body: Record<string, unknown>): Promise<any> {
  const res = await post(lh, "/v1/matrix/corpora", body);
  if (res.status !== 201 && res.status !== 202) throw new Error(`build: ${res.status} ${await res.text()}`);
  await lh.matrix.corpora.settled(body.name as string);
  return json(call(lh, `/v1/matrix/corpora/${body.name}`));
}

export const WORKERS_CORPUS = {
  name: "workers",
  dataset: "workers",
  id_column: "worker_id",
  template: "{primary_skill} in {city}, {state}: {resume_text}",
  metadata: ["person_id", "primary_skill", "city", "state", "hourly_rate", "available"],
};
