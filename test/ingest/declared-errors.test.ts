// The catalog's refusals reach ingest callers as the codes ingest.upload declares (and the OpenAPI
// document lists): a full journal and a dataset whose manifests could not be read are 503, with
// nothing stored. (The conversion process dying is test/ingest/convert-crash.test.ts; the manifest
// cap, checked by the same catalog.commit before anything is staged, test/catalog/journal-edge.test.ts.)
import { afterEach, expect, test } from "bun:test";
import { journalKey, MAX_SEQ } from "../../src/catalog/journal.ts";
import { manifestKey } from "../../src/catalog/manifest.ts";
import { statusFor } from "../../src/http/error-envelope.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest, ingestOk } from "../support/ingest.ts";
import { tempDir } from "../support/tmp.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;
const opened: LH[] = [];
afterEach(async () => {
  for (const lh of opened.splice(0)) await lh.close();
});

/** A data root holding dataset "a" (journal entry 1), damaged by `damage` with the server stopped, then started. */
async function startDamaged(damage: (store: FsObjectStore) => Promise<void>): Promise<LH> {
  const root = tempDir("lh-ingest-errors-");
  const first = await testLakehouse({ storage: { fs: { root } } });
  await ingestOk(first, "a", "id\n1\n");
  await first.close();
  await damage(await FsObjectStore.open(root));
  const lh = await testLakehouse({ storage: { fs: { root } } });
  opened.push(lh);
  return lh;
}

/** Every object key under `prefix`. */
async function keys(lh: LH, prefix: string): Promise<string[]> {
  return (await lh.storage.store.list(prefix)).items.map((i) => i.key);
}

/** The operation's own declaration of `code`, and that it maps to `status`. */
function declared(lh: LH, code: string, status: number): string {
  const op = lh.ops.list().find((o) => o.name === "ingest.upload")!;
  expect(statusFor(code as never) as number).toBe(status);
  const when = (op.errors as Record<string, string> | undefined)?.[code];
  expect(when).toBeDefined();
  return when!;
}

test("a full journal: ingest is 503 unavailable, declared; nothing is stored", async () => {
  const lh = await startDamaged(async (store) => {
    const entry = JSON.parse(new TextDecoder().decode(await store.getBytes(journalKey(1))));
    await store.put(journalKey(MAX_SEQ), JSON.stringify({ ...entry, seq: MAX_SEQ }));
  });
  const before = await keys(lh, "datasets/");
  const res = await ingest(lh, "b", "id\n2\n");
  expect(res.status).toBe(503);
  const { error } = await json(res);
  expect(error.code).toBe("unavailable");
  expect(error.details).toEqual({ max_seq: MAX_SEQ });
  expect(declared(lh, "unavailable", 503)).toContain("journal");
  expect(await keys(lh, "datasets/")).toEqual(before);
  expect(await keys(lh, "_catalog/b/")).toEqual([]);
});

test("a dataset none of whose manifests can be read: ingest into it is 503 unavailable naming it, declared; nothing is stored", async () => {
  const lh = await startDamaged((store) => store.put(manifestKey("a", 1), "not json").then(() => {}));
  const before = await keys(lh, "datasets/");
  const res = await ingest(lh, "a", "id\n2\n");
  expect(res.status).toBe(503);
  const { error } = await json(res);
  expect(error.code).toBe("unavailable");
  expect(error.details).toEqual({ dataset: "a" });
  expect(declared(lh, "unavailable", 503)).toContain("dataset is unavailable");
  expect(await keys(lh, "datasets/")).toEqual(before);
  expect(await keys(lh, "_catalog/a/")).toEqual([manifestKey("a", 1)]);
});

test("the other codes ingest answers are declared with their reasons: too_large (upload, Parquet, manifest cap), unprocessable", async () => {
  const lh = await testLakehouse();
  opened.push(lh);
  const tooLarge = declared(lh, "too_large", 413);
  for (const reason of ["ingest.max_ingest_bytes", "datasets/", "manifest"]) expect(tooLarge).toContain(reason);
  expect(declared(lh, "unprocessable", 422)).toContain("crashed");
  const doc = lh.document() as { paths: Record<string, { post: { responses: Record<string, { description: string }> } }> };
  const responses = doc.paths["/v1/ingest/{name}"]!.post.responses;
  expect(Object.keys(responses)).toEqual(expect.arrayContaining(["413", "422", "503"]));
  expect(responses["503"]!.description).toContain("journal");
});
