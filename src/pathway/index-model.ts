// The embedding model of the pathway's vector index, pinned in _pathway/index-model.json when the
// module first opens: a new store takes embed.index_model (the words model by default,
// docs/embed.md), a store whose index predates the pin keeps the provider's default model it was
// built with. Changing embed.provider or embed.index_model later leaves an existing store alone —
// its vectors and its queries' vectors must come from one model.
import * as v from "valibot";
import { readJsonChecked } from "../lib/read-json.ts";
import type { Logger } from "../log.ts";
import type { EmbedPort } from "../ports.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";

export const INDEX_MODEL_KEY = `${LAYOUT.pathway}index-model.json`;
const Pin = v.object({ model: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) });

export async function pinnedModel(store: ObjectStore, embed: EmbedPort, indexExists: boolean, log: Logger): Promise<string> {
  const read = await readJsonChecked(store, INDEX_MODEL_KEY, Pin, { maxBytes: 4096 });
  if (read.ok) return read.value.model;
  const model = indexExists ? embed.defaultModel : embed.indexModel;
  if (read.problem !== "missing") log.warn("pathway: index model record unreadable; pinned again", { problem: read.problem, model });
  await store.put(INDEX_MODEL_KEY, JSON.stringify({ model }), { contentType: "application/json" });
  return model;
}
