// Archived events in the object store: gzip'd NDJSON objects _observer/archive/<first>-<last>.ndjson.gz
// (one line per event, in id order), the witness's runs as of the last archive
// (_observer/runs/<seq>.json), and _observer/manifest.json naming both with each archive's counts
// (so stats never read an archive). The manifest is written last: a crash before it leaves the
// previous manifest current and the events still in the local log, archived again next time; the
// orphan object is deleted at the next open.
//
// The SQL workers cannot read the object store (no httpfs), so each archive also has a plain
// NDJSON copy in the observer's view directory, restored from the store at open when missing
// (a new machine, the s3 backend).
import { existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { listAll } from "../lib/list-all.ts";
import { readJson } from "../lib/read-json.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { CountsJson } from "./counts.ts";
import type { ObsEvent } from "./model.ts";

export const MANIFEST_KEY = `${LAYOUT.observer}manifest.json`;
export const ARCHIVE_PREFIX = `${LAYOUT.observer}archive/`;
const RUNS_PREFIX = `${LAYOUT.observer}runs/`;
const pad = (n: number) => String(n).padStart(16, "0");
export const archiveName = (first: number, last: number) => `${pad(first)}-${pad(last)}`;
export const runsKey = (seq: number) => `${RUNS_PREFIX}${pad(seq)}.json`;
/** The manifest lists every archive with its counts: generous for 30 days of hourly archives. */
const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;
const RUNS_MAX_BYTES = 256 * 1024 * 1024;

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const tally = v.record(v.string(), count);
const EntrySchema = v.object({
  name: v.pipe(v.string(), v.regex(/^\d{16}-\d{16}$/)),
  first: count,
  last: count,
  count,
  bytes: count,
  min_ts: v.string(),
  max_ts: v.string(),
  counts: v.object({ total: count, by_source: tally, by_kind: tally, errors_by_source: tally, last_seen: v.record(v.string(), v.string()) }),
});
const ManifestSchema = v.object({
  version: v.literal(1),
  /** Every event with id ≤ seq is archived (or was, before retention dropped it). */
  seq: count,
  archives: v.array(EntrySchema),
  runs_key: v.nullable(v.pipe(v.string(), v.startsWith(RUNS_PREFIX))),
});
export type ArchiveEntry = v.InferOutput<typeof EntrySchema>;
export type Manifest = v.InferOutput<typeof ManifestSchema>;

export const emptyManifest = (): Manifest => ({ version: 1, seq: 0, archives: [], runs_key: null });

export async function readManifest(store: ObjectStore): Promise<Manifest> {
  return (await readJson(store, MANIFEST_KEY, ManifestSchema, { maxBytes: MANIFEST_MAX_BYTES })) ?? emptyManifest();
}

export async function writeManifest(store: ObjectStore, m: Manifest): Promise<void> {
  await store.put(MANIFEST_KEY, JSON.stringify(m), { contentType: "application/json" });
}

export const eventsNdjson = (events: readonly ObsEvent[]) => {
  let text = "";
  for (const e of events) text += `${JSON.stringify(e)}\n`;
  return text;
};

/** Stores `events` (id order) as an archive object and its local copy; returns its manifest entry. */
export async function writeArchive(store: ObjectStore, localDir: string, events: readonly ObsEvent[], counts: CountsJson): Promise<ArchiveEntry> {
  const first = events[0]!.id;
  const last = events.at(-1)!.id;
  const name = archiveName(first, last);
  const text = eventsNdjson(events);
  const gz = Bun.gzipSync(new TextEncoder().encode(text));
  await store.put(`${ARCHIVE_PREFIX}${name}.ndjson.gz`, gz, { contentType: "application/gzip" });
  await writeLocal(localDir, name, text);
  let min = events[0]!.ts;
  let max = min;
  for (const e of events) {
    if (e.ts < min) min = e.ts;
    if (e.ts > max) max = e.ts;
  }
  return { name, first, last, count: events.length, bytes: gz.length, min_ts: min, max_ts: max, counts };
}

export const localArchivePath = (localDir: string, name: string) => join(localDir, "archive", `${name}.ndjson`);

async function writeLocal(localDir: string, name: string, text: string): Promise<void> {
  const path = localArchivePath(localDir, name);
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

/** Restores a missing local copy from the store. */
export async function ensureLocal(store: ObjectStore, localDir: string, entry: ArchiveEntry): Promise<void> {
  if (existsSync(localArchivePath(localDir, entry.name))) return;
  const gz = await store.getBytes(`${ARCHIVE_PREFIX}${entry.name}.ndjson.gz`);
  await writeLocal(localDir, entry.name, new TextDecoder().decode(Bun.gunzipSync(gz as Uint8Array<ArrayBuffer>)));
}

/** An archive's events, from the local copy (or the store when the copy is gone). */
export async function readArchive(store: ObjectStore, localDir: string, entry: ArchiveEntry): Promise<ObsEvent[]> {
  const path = localArchivePath(localDir, entry.name);
  const text = existsSync(path)
    ? await Bun.file(path).text()
    : new TextDecoder().decode(Bun.gunzipSync((await store.getBytes(`${ARCHIVE_PREFIX}${entry.name}.ndjson.gz`)) as Uint8Array<ArrayBuffer>));
  const out: ObsEvent[] = [];
  for (const line of text.split("\n")) if (line !== "") out.push(JSON.parse(line) as ObsEvent);
  return out;
}

/** Deletes archive and runs objects the manifest does not name (left by a crash before the manifest was written). */
export async function deleteOrphans(store: ObjectStore, m: Manifest): Promise<number> {
  const keep = new Set([...m.archives.map((a) => `${ARCHIVE_PREFIX}${a.name}.ndjson.gz`), ...(m.runs_key ? [m.runs_key] : [])]);
  let n = 0;
  for (const prefix of [ARCHIVE_PREFIX, RUNS_PREFIX]) {
    const orphans: string[] = [];
    for await (const item of listAll(store, prefix)) if (!keep.has(item.key)) orphans.push(item.key);
    for (const key of orphans) {
      await store.delete(key);
      n++;
    }
  }
  return n;
}

export async function readRuns(store: ObjectStore, key: string): Promise<unknown> {
  return readJson(store, key, v.unknown(), { maxBytes: RUNS_MAX_BYTES });
}

export async function deleteArchive(store: ObjectStore, entry: ArchiveEntry): Promise<void> {
  await store.delete(`${ARCHIVE_PREFIX}${entry.name}.ndjson.gz`);
}
