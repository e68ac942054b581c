// Snapshots in the object store under _vectors/<name>/: the graph file saved by hnswlib, an
// envelope (the sidecar) with the id map and metadata, and manifest.json naming the current pair
// with the index parameters and the last log sequence the snapshot contains. The manifest is
// replaced last (an atomic put), so a crash mid-snapshot leaves the previous snapshot current.
// Both JSON objects are validated when read back, like the catalog's manifests: one that does not
// hold together is a damaged index (unavailable until repaired or dropped), never a crash or a
// silently wrong id map. Every read is capped: the manifest at a size no manifest reaches, the
// envelope and the graph at the sizes the manifest recorded when the snapshot was committed, so
// an oversized object is refused without being read.
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import * as v from "valibot";
import type { Metadata } from "../filter/compile.ts";
import { listAll } from "../lib/list-all.ts";
import { readJson } from "../lib/read-json.ts";
import type { SkippedObject } from "../lib/skipped.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import { type GraphParams, readGraphVectors } from "./hnsw.ts";
import { graphParamsOf, type IndexParams, IndexParamsSchema, isIndexName } from "./params.ts";
import { VectorSlab } from "./slab.ts";

/** Exact integers only: a sequence past 2^53 would stop counting (seq + 1 === seq) and collide. */
const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
/** A manifest is the parameters and one snapshot reference, ≈400 bytes; 64 KiB is no manifest. */
const MAX_MANIFEST_BYTES = 64 * 1024;

const SnapshotRefSchema = v.object({ seq: count, count, graph: v.string(), envelope: v.string(), bytes: count });

const ManifestSchema = v.object({
  version: v.literal(1),
  params: IndexParamsSchema,
  created_at: v.string(),
  snapshot: v.nullable(SnapshotRefSchema),
});

export type SnapshotRef = v.InferOutput<typeof SnapshotRefSchema>;
export type Manifest = v.InferOutput<typeof ManifestSchema>;

/** The graph-side state a snapshot holds, parallel arrays by item. */
export interface Envelope {
  seq: number;
  labels: number[];
  ids: string[];
  metadata: Metadata[];
}

// Checked by hand in plain loops, without copying: an envelope holds every item of the index.
// valibot's array() with a pipe per element cost ≈2 s for 100K items at start-up (it builds every
// output array and runs each element's pipe); these loops cost a few milliseconds.
const isMetadata = (x: unknown): x is Metadata => x === null || (typeof x === "object" && !Array.isArray(x));
const isLabel = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff;

function isEnvelope(x: unknown): x is Envelope {
  if (typeof x !== "object" || x === null) return false;
  const { seq, labels, ids, metadata } = x as Record<string, unknown>;
  if (!(typeof seq === "number" && Number.isInteger(seq) && seq >= 0 && seq <= Number.MAX_SAFE_INTEGER)) return false;
  if (!Array.isArray(labels) || !Array.isArray(ids) || !Array.isArray(metadata)) return false;
  const n = labels.length;
  // Labels, ids and metadata are parallel arrays; a label or an id that appears twice is no envelope a snapshot writes.
  if (ids.length !== n || metadata.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!isLabel(labels[i]) || typeof id !== "string" || id.length === 0 || !isMetadata(metadata[i])) return false;
  }
  return new Set(labels).size === n && new Set(ids).size === n;
}
const EnvelopeSchema = v.custom<Envelope>(isEnvelope, "not a snapshot envelope");

/** A snapshot's graph file on local disk (the object itself on fs, a download on s3) until released. */
export interface GraphFile {
  path: string;
  release(): Promise<void>;
}

/** The graph-side items a snapshot holds, by label. */
export type SnapshotItem = { label: number; id: string; metadata: Metadata };

/**
 * What a snapshot restores: the graph file (its worker loads it: graph-worker.ts), the graph-side
 * items at `seq`, and their vectors by label for the slab.
 */
export interface RestoredState {
  graphFile: GraphFile | null;
  seq: number;
  items: SnapshotItem[];
  vectors: VectorSlab;
}

/** The state of an index with no snapshot yet. */
export const emptyState = (params: IndexParams): RestoredState => ({
  graphFile: null,
  seq: 0,
  items: [],
  vectors: new VectorSlab(params.dim, 1),
});

const prefixOf = (name: string) => `${LAYOUT.vectors}${name}/`;
export const manifestKey = (name: string) => `${prefixOf(name)}manifest.json`;

const json = (x: unknown) => JSON.stringify(x);

/** Reads and checks an index's manifest; one that is not JSON, not a manifest, or not this index's is damage. */
export async function readManifest(store: ObjectStore, name: string): Promise<Manifest> {
  const manifest = await readJson(store, manifestKey(name), ManifestSchema, { maxBytes: MAX_MANIFEST_BYTES });
  if (!manifest || manifest.params.name !== name) throw new Error("manifest.json is missing, unreadable or not this index's");
  const snap = manifest.snapshot;
  // Its snapshot must lie in the index's own folder: a manifest is never a pointer elsewhere.
  if (snap && !(snap.graph.startsWith(prefixOf(name)) && snap.envelope.startsWith(prefixOf(name))))
    throw new Error("manifest.json names a snapshot outside the index");
  return manifest;
}

/**
 * Lists the indexes that have a manifest. A manifest in a folder no index can be called (no
 * create makes that name, no drop can reach it) is skipped and handed back to be reported.
 */
export async function listIndexNames(store: ObjectStore): Promise<{ names: string[]; skipped: SkippedObject[] }> {
  const names: string[] = [];
  const skipped: SkippedObject[] = [];
  for await (const item of listAll(store, LAYOUT.vectors)) {
    const m = /^([^/]+)\/manifest\.json$/.exec(item.key.slice(LAYOUT.vectors.length));
    if (!m) continue;
    if (isIndexName(m[1]!)) names.push(m[1]!);
    else skipped.push({ key: item.key, reason: "bad_name" });
  }
  return { names, skipped };
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

let downloads = 0;

/** Gives a local path for the snapshot's graph file: the object itself on fs, a download on s3. */
async function fetchGraphFile(store: ObjectStore, snap: SnapshotRef, scratchDir: string): Promise<GraphFile> {
  const key = snap.graph;
  // Never larger than the snapshot it belongs to: a bigger object is not that graph (and is not downloaded).
  const info = await store.head(key);
  if (!info || info.size > snap.bytes) throw new Error(`snapshot ${snap.seq}: the graph is missing or larger than the snapshot`);
  if (store.localPath) return { path: store.localPath(key), release: async () => {} };
  const path = join(scratchDir, `download-${++downloads}.hnsw`);
  const got = await store.get(key);
  await got.body.pipeTo(Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>);
  return { path, release: () => rm(path, { force: true }) };
}

/** Reads and checks a snapshot's envelope against the manifest that names it. */
async function readEnvelope(store: ObjectStore, snap: SnapshotRef): Promise<Envelope> {
  // snap.bytes is the graph's size plus the envelope's, as uploaded: the envelope is no bigger.
  const env = await readJson(store, snap.envelope, EnvelopeSchema, { maxBytes: snap.bytes });
  if (!env) throw new Error(`snapshot ${snap.seq}: the envelope is missing, unreadable or inconsistent`);
  if (env.seq !== snap.seq || env.ids.length !== snap.count) throw new Error(`snapshot ${snap.seq}: the envelope does not match the manifest`);
  return env;
}

/**
 * Loads the snapshot the manifest names: its envelope and the vectors of the graph file (checked
 * against the parameters). The graph itself is loaded by the index's worker from the file, which
 * stays until the caller releases it; that load overlaps the envelope parse here. 100K × 384:
 * 0.73 s in all when both ran on this thread, 2.0 s one after the other (docs/vector.md, start-up).
 */
export async function restoreSnapshot(store: ObjectStore, manifest: Manifest, scratchDir: string): Promise<RestoredState> {
  const { params, snapshot } = manifest;
  if (!snapshot) return emptyState(params);
  const file = await fetchGraphFile(store, snapshot, scratchDir);
  try {
    const env = await readEnvelope(store, snapshot);
    const vectors = await readSlab(file.path, graphParamsOf(params), env);
    return { graphFile: file, seq: env.seq, items: itemsOf(env), vectors };
  } catch (err) {
    await file.release();
    throw err;
  }
}

/** The snapshot again, without its vectors: what a graph worker that died is rebuilt from. */
export async function reloadSnapshot(
  store: ObjectStore,
  manifest: Manifest,
  scratchDir: string,
): Promise<{ graphFile: GraphFile | null; seq: number; items: SnapshotItem[] }> {
  const { snapshot } = manifest;
  if (!snapshot) return { graphFile: null, seq: 0, items: [] };
  const file = await fetchGraphFile(store, snapshot, scratchDir);
  try {
    const env = await readEnvelope(store, snapshot);
    return { graphFile: file, seq: env.seq, items: itemsOf(env) };
  } catch (err) {
    await file.release();
    throw err;
  }
}

const itemsOf = (env: Envelope): SnapshotItem[] => env.labels.map((label, i) => ({ label, id: env.ids[i]!, metadata: env.metadata[i]! }));

/** The vectors of the envelope's labels, from the graph file; a label the graph does not hold is damage. */
async function readSlab(path: string, gp: GraphParams, env: Envelope): Promise<VectorSlab> {
  const wanted = new Set(env.labels);
  const top = env.labels.reduce((max, l) => Math.max(max, l), -1);
  const slab = new VectorSlab(gp.dim, top + 2);
  await readGraphVectors(path, gp, (label, vector) => {
    // Labels the envelope does not list are marked deleted in the graph: their rows stay unused.
    if (wanted.delete(label)) slab.set(label, vector);
  });
  if (wanted.size > 0) throw new Error(`snapshot ${env.seq}: the graph lacks ${wanted.size} of the envelope's items`);
  return slab;
}

/** Removes every object of an index, the manifest first so a crash midway leaves no half index. */
export async function deleteIndexObjects(store: ObjectStore, name: string): Promise<void> {
  await store.delete(manifestKey(name));
  // Listed whole before deleting, so the deletes cannot shift the pages being read.
  const keys: string[] = [];
  for await (const item of listAll(store, prefixOf(name))) keys.push(item.key);
  for (const key of keys) await store.delete(key);
}
