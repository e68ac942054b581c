// Snapshots of the whole memory in the object store, like the vector module's: an NDJSON object
// _pathway/snapshots/<seq>.ndjson (one checksummed line per trace chain, every version of it, and
// one per audit receipt, in the log's line format) and _pathway/manifest.json naming the current
// one and the log sequence it holds. The manifest is replaced last, so a crash mid-snapshot leaves
// the previous snapshot current. Forgotten traces are not written: a FORGET's content leaves the
// object store with the next snapshot, and the log segments holding it go once that one is committed.
//
// Written and read as streams, a few hundred lines at a time with a turn for the event loop in
// between, so a snapshot of 100K traces never stalls requests.
import * as v from "valibot";
import { decodeLine, encodeLine } from "../lib/line-log.ts";
import { readJson } from "../lib/read-json.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Receipt, StoredVersion } from "./model.ts";
import type { Chain } from "./state.ts";

export const MANIFEST_KEY = `${LAYOUT.pathway}manifest.json`;
const SNAPSHOTS = `${LAYOUT.pathway}snapshots/`;
const snapshotKey = (seq: number) => `${SNAPSHOTS}${String(seq).padStart(16, "0")}.ndjson`;
/** Lines handed to the store per chunk; one chunk is built between two turns of the event loop. */
const LINES_PER_CHUNK = 500;

const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const ManifestSchema = v.object({
  version: v.literal(1),
  seq: count,
  key: v.pipe(v.string(), v.startsWith(SNAPSHOTS)),
  bytes: count,
  chains: count,
  receipts: count,
  created_at: v.string(),
});
export type Manifest = v.InferOutput<typeof ManifestSchema>;

/** What a snapshot holds: captured synchronously, streamed afterwards. */
export interface Capture {
  seq: number;
  chains: { chain: Chain; versions: StoredVersion[]; replays: number }[];
  receipts: Receipt[];
}

export type SnapshotLine = { k: "c"; uid: string; ord: number; replays: number; versions: StoredVersion[] } | ({ k: "r" } & Receipt);

export async function readManifest(store: ObjectStore): Promise<Manifest | null> {
  return readJson(store, MANIFEST_KEY, ManifestSchema, { maxBytes: 64 * 1024 });
}

/** Streams the captured state to a new snapshot object, then points the manifest at it and deletes the previous one. */
export async function writeSnapshot(store: ObjectStore, cap: Capture, previous: Manifest | null): Promise<Manifest> {
  const key = snapshotKey(cap.seq);
  const enc = new TextEncoder();
  let i = 0;
  let r = 0;
  let written = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      let text = "";
      for (let n = 0; n < LINES_PER_CHUNK && i < cap.chains.length; i++) {
        const { chain, versions, replays } = cap.chains[i]!;
        // Forgotten since the capture: its content must not reach the store again.
        if (chain.forgotten) continue;
        text += encodeLine({ k: "c", uid: chain.uid, ord: chain.ord, replays, versions });
        n++;
      }
      if (text === "") for (let n = 0; n < LINES_PER_CHUNK * 4 && r < cap.receipts.length; n++, r++) text += encodeLine({ k: "r", ...cap.receipts[r]! });
      if (text === "") {
        controller.close();
        return;
      }
      const bytes = enc.encode(text);
      written += bytes.length;
      controller.enqueue(bytes);
    },
  });
  const info = await store.put(key, body, { contentType: "application/x-ndjson" });
  const manifest: Manifest = {
    version: 1,
    seq: cap.seq,
    key,
    bytes: info.size ?? written,
    chains: cap.chains.length,
    receipts: cap.receipts.length,
    created_at: new Date().toISOString(),
  };
  await store.put(MANIFEST_KEY, JSON.stringify(manifest), { contentType: "application/json" });
  if (previous && previous.key !== key) await store.delete(previous.key).catch(() => {});
  return manifest;
}

export interface SnapshotRead {
  lines: number;
  /** Byte offsets of lines passed over (bad checksum, not JSON, not a snapshot line). */
  skipped: number[];
}

/** Reads the snapshot the manifest names line by line, giving the event loop a turn now and then. */
export async function readSnapshot(store: ObjectStore, manifest: Manifest, onLine: (line: SnapshotLine) => void): Promise<SnapshotRead> {
  const got = await store.get(manifest.key);
  const out: SnapshotRead = { lines: 0, skipped: [] };
  const dec = new TextDecoder();
  let carry = "";
  let offset = 0;
  let until = performance.now() + 20;
  const take = (line: string) => {
    const rec = decodeLine(line) as SnapshotLine | null;
    if (rec && typeof rec === "object" && (rec.k === "c" ? Array.isArray(rec.versions) && typeof rec.uid === "string" : rec.k === "r")) {
      onLine(rec);
      out.lines++;
    } else out.skipped.push(offset);
    offset += Buffer.byteLength(line) + 1;
  };
  for await (const chunk of got.body) {
    carry += dec.decode(chunk, { stream: true });
    let nl = carry.indexOf("\n");
    let start = 0;
    while (nl >= 0) {
      take(carry.slice(start, nl));
      start = nl + 1;
      nl = carry.indexOf("\n", start);
    }
    carry = carry.slice(start);
    if (performance.now() > until) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      until = performance.now() + 20;
    }
  }
  carry += dec.decode();
  if (carry !== "") take(carry);
  return out;
}
