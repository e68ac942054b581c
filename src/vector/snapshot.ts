// Snapshots in the object store under _vectors/<name>/: the graph file saved by hnswlib, an
// envelope with the id map and metadata, and manifest.json naming the current pair with the index
// parameters and the last log sequence the snapshot contains. The manifest is replaced last (an
// atomic put), so a crash mid-snapshot leaves the previous snapshot current.
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Metadata } from "../filter/compile.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Metric } from "./vectors.ts";

export interface IndexParams {
  name: string;
  dim: number;
  metric: Metric;
  m: number;
  ef_construction: number;
  ef_search: number;
}

export interface SnapshotRef {
  seq: number;
  count: number;
  graph: string;
  envelope: string;
  bytes: number;
}

export interface Manifest {
  version: 1;
  params: IndexParams;
  created_at: string;
  snapshot: SnapshotRef | null;
}

/** The graph-side state a snapshot holds, parallel arrays by item. */
export interface Envelope {
  seq: number;
  labels: number[];
  ids: string[];
  metadata: Metadata[];
}

export const VECTORS_PREFIX = "_vectors/";
export const prefixOf = (name: string) => `${VECTORS_PREFIX}${name}/`;
export const manifestKey = (name: string) => `${prefixOf(name)}manifest.json`;

const json = (x: unknown) => JSON.stringify(x);

export async function readManifest(store: ObjectStore, name: string): Promise<Manifest> {
  return JSON.parse(new TextDecoder().decode(await store.getBytes(manifestKey(name)))) as Manifest;
}

/** Lists the indexes that have a manifest. */
export async function listIndexNames(store: ObjectStore): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(VECTORS_PREFIX, { cursor });
    for (const item of page.items) {
      const m = /^_vectors\/([^/]+)\/manifest\.json$/.exec(item.key);
      if (m) names.push(m[1]!);
    }
    cursor = page.cursor;
  } while (cursor);
  return names;
}

/** Uploads a graph file already saved locally plus its envelope, then points the manifest at them. */
export async function commitSnapshot(store: ObjectStore, manifest: Manifest, graphFile: string, envelope: Envelope): Promise<Manifest> {
  const { name } = manifest.params;
  const graphKey = `${prefixOf(name)}snap-${envelope.seq}.hnsw`;
  const envelopeKey = `${prefixOf(name)}snap-${envelope.seq}.json`;
  const graphInfo = await store.put(graphKey, Bun.file(graphFile).stream());
  const envInfo = await store.put(envelopeKey, json(envelope));
  const next: Manifest = {
    ...manifest,
    snapshot: { seq: envelope.seq, count: envelope.ids.length, graph: graphKey, envelope: envelopeKey, bytes: graphInfo.size + envInfo.size },
  };
  await store.put(manifestKey(name), json(next), { contentType: "application/json" });
  const previous = manifest.snapshot;
  if (previous && previous.graph !== graphKey) {
    await store.delete(previous.graph);
    await store.delete(previous.envelope);
  }
  return next;
}

/** Gives a local path for the snapshot's graph file: the object itself on fs, a download on s3. */
export async function fetchGraphFile(store: ObjectStore, key: string, scratchDir: string): Promise<{ path: string; release(): Promise<void> }> {
  if (store.localPath) return { path: store.localPath(key), release: async () => {} };
  const path = join(scratchDir, "download.hnsw");
  const got = await store.get(key);
  await got.body.pipeTo(Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>);
  return { path, release: () => rm(path, { force: true }) };
}

export async function readEnvelope(store: ObjectStore, key: string): Promise<Envelope> {
  return JSON.parse(new TextDecoder().decode(await store.getBytes(key))) as Envelope;
}

/** Removes every object of an index, the manifest first so a crash midway leaves no half index. */
export async function deleteIndexObjects(store: ObjectStore, name: string): Promise<void> {
  await store.delete(manifestKey(name));
  let cursor: string | undefined;
  const keys: string[] = [];
  do {
    const page = await store.list(prefixOf(name), { cursor });
    keys.push(...page.items.map((i) => i.key));
    cursor = page.cursor;
  } while (cursor);
  for (const key of keys) await store.delete(key);
}
