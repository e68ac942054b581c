// The thread that owns one index's HNSW graph (a Bun Worker; graph-client.ts starts it). Inserts,
// deletes, rebuilds, saves and graph searches all run here, one at a time, so hnswlib's need for
// serialized mutation holds by construction, and the main thread never waits on an insert: it
// keeps the log, validation, the exact scan of pending items and request handling.
//
// Ops are applied in slices; between slices the thread takes its messages (searches, saves). A
// search raises a shared flag before it is posted, and a slice ends at the next item once the
// flag is up, so a search waits for at most one insert (≈1 ms at 384 dimensions), not a slice.
import type { FromWorker, ToWorker } from "./graph-protocol.ts";
import { SEARCH_FLAG } from "./graph-protocol.ts";
import { Graph, type GraphHit, type GraphParams } from "./hnsw.ts";

declare const self: Worker;

type QueuedOp = { seq: number; kind: "upsert"; labels: number[]; vectors: Float32Array } | { seq: number; kind: "delete"; labels: number[] };

/** Work between two looks at the message queue when no search is waiting. */
const SLICE_MS = 20;
const MIN_REBUILD_SIZE = 100;
/** Up to this many stale graph entries, over-fetching beats a per-node JS filter callback. */
const OVERFETCH_MAX = 64;

let graph: Graph;
let params: GraphParams;
let rebuildRatio = 0.2;
let flag: Int32Array<ArrayBufferLike> = new Int32Array(1);
let faults = false;
/** Labels the graph holds live (not marked deleted). */
const inGraph = new Set<number>();
const queue: QueuedOp[] = [];
let cursor = 0;
/** The last op applied whole. */
let appliedSeq = 0;
/** Labels with an op queued and not yet applied: their graph entries are outdated, never returned. */
const touched = new Map<number, number>();
let done: number[] = [];
let running = false;
let stopped = false;
/** While a rebuild runs, applied items are reported only once it is done (see run()). */
let rebuilding = false;

const post = (msg: FromWorker) => self.postMessage(msg);
const log = (level: "info" | "error", message: string, fields: Record<string, unknown> = {}) => post({ t: "log", level, message, fields });
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function touch(labels: readonly number[]): void {
  for (const l of labels) touched.set(l, (touched.get(l) ?? 0) + 1);
}

function untouch(label: number): void {
  const n = (touched.get(label) ?? 1) - 1;
  if (n <= 0) touched.delete(label);
  else touched.set(label, n);
}

function flush(): void {
  if (done.length === 0) return;
  post({ t: "applied", done, size: graph.size, capacity: graph.capacity, deleted: graph.size - inGraph.size });
  done = [];
}

function step(): void {
  const op = queue[0]!;
  if (op.kind === "upsert") {
    const label = op.labels[cursor]!;
    let ok = 1;
    try {
      graph.add(label, op.vectors.subarray(cursor * params.dim, (cursor + 1) * params.dim));
      inGraph.add(label);
    } catch (err) {
      // The item stays pending on the main thread, so exact search still finds it; the graph lacks it.
      ok = 0;
      log("error", "vector graph insert failed", { error: String(err) });
    }
    untouch(label);
    done.push(op.seq, label, ok);
    if (++cursor < op.labels.length) return;
  } else {
    for (const label of op.labels) {
      if (inGraph.delete(label)) graph.markDeleted(label);
      untouch(label);
    }
    done.push(op.seq, -1, 1);
  }
  queue.shift();
  cursor = 0;
  appliedSeq = op.seq;
}

function kick(): void {
  if (running || stopped || queue.length === 0) return;
  running = true;
  void run().finally(() => {
    running = false;
  });
}

async function run(): Promise<void> {
  await yieldToLoop();
  while (!stopped && queue.length > 0) {
    const until = performance.now() + SLICE_MS;
    while (queue.length > 0 && performance.now() < until && Atomics.load(flag, SEARCH_FLAG) === 0) step();
    // Rebuilt before the slice is reported, so a caller waiting for the graph to catch up waits for the rebuild too.
    if (cursor === 0 && graph.size >= MIN_REBUILD_SIZE && graph.size - inGraph.size >= rebuildRatio * graph.size) await rebuild();
    flush();
    await yieldToLoop();
  }
  flush();
}

/** Builds a fresh graph of the live entries (from the old one, which nothing mutates meanwhile) and swaps it in. */
async function rebuild(): Promise<void> {
  rebuilding = true;
  try {
    await rebuildGraph();
  } finally {
    rebuilding = false;
  }
}

async function rebuildGraph(): Promise<void> {
  const labels = [...inGraph];
  const next = Graph.create(params, Math.ceil(labels.length * 1.25) + 16);
  let until = performance.now() + SLICE_MS;
  for (const label of labels) {
    next.add(label, graph.vector(label));
    if (performance.now() > until || Atomics.load(flag, SEARCH_FLAG) !== 0) {
      await yieldToLoop();
      if (stopped) return;
      until = performance.now() + SLICE_MS;
    }
  }
  graph = next;
  log("info", "vector graph rebuilt", { live: labels.length });
}

function search(query: Float32Array, k: number, ef: number, allowed?: Uint8Array): GraphHit[] {
  const stale = touched;
  if (allowed) {
    const bits = allowed;
    return graph.search(query, k, ef, (l) => (bits[l >> 3]! & (1 << (l & 7))) !== 0 && !stale.has(l));
  }
  if (stale.size === 0) return graph.search(query, k, ef);
  if (stale.size <= OVERFETCH_MAX)
    return graph
      .search(query, k + stale.size, ef)
      .filter((h) => !stale.has(h.label))
      .slice(0, k);
  return graph.search(query, k, ef, (l) => !stale.has(l));
}

function handle(msg: ToWorker): void {
  switch (msg.t) {
    case "init": {
      params = msg.params;
      rebuildRatio = msg.rebuildDeletedRatio;
      flag = new Int32Array(msg.flag);
      faults = msg.faults;
      appliedSeq = msg.seq;
      try {
        graph = msg.file ? Graph.load(msg.file, params) : Graph.create(params, 0);
      } catch (err) {
        post({ t: "failed", id: 0, error: String(err) });
        return;
      }
      for (const l of msg.labels) inGraph.add(l);
      post({ t: "ready", size: graph.size, capacity: graph.capacity });
      return;
    }
    case "upsert":
      queue.push({ seq: msg.seq, kind: "upsert", labels: msg.labels, vectors: msg.vectors });
      touch(msg.labels);
      kick();
      return;
    case "delete":
      queue.push({ seq: msg.seq, kind: "delete", labels: msg.labels });
      touch(msg.labels);
      kick();
      return;
    case "search": {
      Atomics.sub(flag, SEARCH_FLAG, 1);
      // Not needed for correctness (the main thread drops hits it still counts pending and scans
      // those), but reporting first keeps that pending scan short.
      if (!rebuilding) flush();
      try {
        const hits = search(msg.query, msg.k, msg.ef, msg.allowed);
        post({ t: "hits", id: msg.id, labels: hits.map((h) => h.label), distances: hits.map((h) => h.distance) });
      } catch (err) {
        post({ t: "failed", id: msg.id, error: String(err) });
      }
      return;
    }
    case "save": {
      flush();
      try {
        graph.save(msg.path);
        post({ t: "saved", id: msg.id, seq: appliedSeq });
      } catch (err) {
        post({ t: "saved", id: msg.id, seq: appliedSeq, error: String(err) });
      }
      return;
    }
    case "stop":
      stopped = true;
      flush();
      post({ t: "stopped", id: msg.id });
      return;
    case "fault":
      if (!faults) return;
      if (msg.kind === "exit") process.exit(70);
      throw new Error("injected graph worker fault");
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => handle(e.data);
