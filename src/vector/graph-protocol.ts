// The messages between an index (main thread) and the worker thread that owns its HNSW graph
// (graph-worker.ts). A worker's port delivers messages in order both ways, which is what the
// bookkeeping relies on: an op posted before a search is applied or known stale by the time the
// worker runs the search, and the worker's "applied" reports arrive before any reply it sends later.
import type { GraphParams } from "./hnsw.ts";

export type ToWorker =
  | {
      t: "init";
      params: GraphParams;
      /** A saved graph to load, or null for an empty one. */
      file: string | null;
      /** Labels live in that graph (the snapshot's): markDelete needs to know what the graph holds. */
      labels: number[];
      /** The last op that graph holds. */
      seq: number;
      rebuildDeletedRatio: number;
      /** Index of the Int32Array cell the main thread raises while a search waits (see SEARCH_FLAG). */
      flag: SharedArrayBuffer;
      /** Honour "fault" messages: set only by a test-only constructor flag, never from config or the API. */
      faults: boolean;
    }
  /** An upsert: `vectors` holds the items' vectors back to back, as acknowledged. */
  | { t: "upsert"; seq: number; labels: number[]; vectors: Float32Array }
  | { t: "delete"; seq: number; labels: number[] }
  | { t: "search"; id: number; query: Float32Array; k: number; ef: number; allowed?: Uint8Array }
  /** Saves the graph (temp file, fsync, rename) as it stands between two items. */
  | { t: "save"; id: number; path: string }
  /** Stops applying ops (those queued stay in the log); searches and saves still answer. */
  | { t: "stop"; id: number }
  | { t: "fault"; kind: "throw" | "exit" };

export type FromWorker =
  | { t: "ready"; size: number; capacity: number }
  /**
   * Progress since the last report, in order: triples of (seq, label, ok). An upsert reports each
   * item (ok 0: its insert failed, it stays pending); a delete op reports once with label -1.
   */
  | { t: "applied"; done: number[]; size: number; capacity: number; deleted: number }
  | { t: "hits"; id: number; labels: number[]; distances: number[] }
  /** `seq`: the last op the saved graph holds whole. */
  | { t: "saved"; id: number; seq: number; error?: string }
  | { t: "stopped"; id: number }
  | { t: "log"; level: "info" | "error"; message: string; fields: Record<string, unknown> }
  | { t: "failed"; id: number; error: string };

/** The cell of the shared flag: non-zero while the main thread has a search waiting for the worker. */
export const SEARCH_FLAG = 0;
