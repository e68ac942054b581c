// The pathway index's embedding model is pinned (src/pathway/index-model.ts): a new store takes
// embed.index_model, a store whose index predates the pin keeps the provider's default it was
// built with, and a later change of embed.index_model leaves an existing store alone.
import { expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { tempDir } from "../support/tmp.ts";
import { add, ready, req } from "./helpers.ts";

const memory = { user_id: "u1", kind: "fact", content: "prefers night shifts near Joliet, drives a forklift" };
const pinFile = (root: string) => join(root, "objects", "_pathway", "index-model.json");

async function open(root: string, indexModel?: string) {
  const lh = await testLakehouse({ storage: { fs: { root } }, ...(indexModel ? { embed: { index_model: indexModel } } : {}) });
  await ready(lh);
  return lh;
}
/** The index's dimension once the write's vector is in (items are written after the log line). */
async function dimOf(lh: Awaited<ReturnType<typeof open>>): Promise<number> {
  while (!lh.vector.service.listIndexes().some((i) => i.name === "pathway-traces")) await Bun.sleep(5);
  return lh.vector.service.getIndex("pathway-traces").dim;
}
const search = async (lh: Awaited<ReturnType<typeof open>>, query: string) => (await req(lh, "POST", "/search", { query, user_id: "u1" })).body;

test("a new store is embedded with embed.index_model; queries use the same model", async () => {
  const root = tempDir("lh-pw-model-");
  const lh = await open(root, "hash-96");
  try {
    expect((await add(lh, memory)).status).toBe(201);
    expect(await dimOf(lh)).toBe(96);
    expect((await search(lh, "forklift night shift")).hits[0].trace.content).toBe(memory.content);
    expect((await Bun.file(pinFile(root)).json()).model).toBe("hash-96");
  } finally {
    await lh.close();
  }
  // Another index model later: the store keeps its own.
  const again = await open(root, "hash-128");
  try {
    expect((await search(again, "forklift night shift")).hits[0].trace.content).toBe(memory.content);
    expect((await add(again, { ...memory, content: "second memory about forklifts" })).status).toBe(201);
    expect(await dimOf(again)).toBe(96);
  } finally {
    await again.close();
  }
});

test("a store whose index predates the pin keeps the provider's default model", async () => {
  const root = tempDir("lh-pw-legacy-");
  // Built as before the pin: with the provider's default (hash-384), then the pin removed.
  const before = await open(root, "hash-384");
  await add(before, memory);
  await before.close();
  rmSync(pinFile(root));
  const lh = await open(root);
  try {
    expect(existsSync(pinFile(root))).toBe(true);
    expect((await Bun.file(pinFile(root)).json()).model).toBe("hash-384");
    expect((await search(lh, "forklift night shift")).hits[0].trace.content).toBe(memory.content);
  } finally {
    await lh.close();
  }
});
