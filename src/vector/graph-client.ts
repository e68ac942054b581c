// The main thread's handle on one graph worker (graph-worker.ts): starts it, posts ops, and turns
// its replies into promises. It knows nothing of ids or the log; the applier does the bookkeeping.
// When the worker dies (an uncaught error, an exit), every request waiting on it is rejected with
// WorkerGone and `onGone` is called once; the applier then starts a new one.
import type { FromWorker, ToWorker } from "./graph-protocol.ts";
import { SEARCH_FLAG } from "./graph-protocol.ts";
import type { GraphParams } from "./hnsw.ts";
import type { GraphHit } from "./search.ts";

export class WorkerGone extends Error {}

export interface GraphEvents {
  applied(msg: Extract<FromWorker, { t: "applied" }>): void;
  log(level: "info" | "error", message: string, fields: Record<string, unknown>): void;
  gone(reason: string): void;
}

export interface InitOptions {
  params: GraphParams;
  file: string | null;
  labels: number[];
  seq: number;
  rebuildDeletedRatio: number;
  faults: boolean;
}

type Waiter = { resolve(msg: FromWorker): void; reject(err: Error): void };

/**
 * Where the worker's code is. From source: next to this file. In the executable (`bun build
 * --compile`: scripts/build-binary.ts must list src/vector/graph-worker.ts as a second entry
 * point), every module's import.meta.url is the executable's own (file:///$bunfs/root/<name>) and
 * a bundled entry is named by its path below the entry points' common folder (src/), so
 * "./vector/graph-worker.ts"; a URL next to this file finds nothing there (measured, Bun 1.4.5).
 */
const WORKER_URL = import.meta.url.startsWith("file:///$bunfs/") ? "./vector/graph-worker.ts" : new URL("./graph-worker.ts", import.meta.url).href;

export class GraphClient {
  private readonly worker: Worker;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private alive = true;
  private ending = false;
  /** Resolves once the worker has loaded or created its graph; rejects if it could not. */
  readonly ready: Promise<{ size: number; capacity: number }>;

  constructor(
    init: InitOptions,
    private readonly events: GraphEvents,
  ) {
    this.worker = new Worker(WORKER_URL);
    this.ready = this.request(0, () => {}).then((msg) => (msg.t === "ready" ? { size: msg.size, capacity: msg.capacity } : { size: 0, capacity: 0 }));
    this.ready.catch(() => {});
    this.worker.addEventListener("message", (e: MessageEvent<FromWorker>) => this.receive(e.data));
    this.worker.addEventListener("error", (e) => {
      // Bun's message quotes the worker's source lines and stack (paths of this machine): the log
      // gets only the "error: ..." line.
      const lines = String((e as ErrorEvent).message ?? e).split("\n");
      this.die(`graph worker error: ${lines.find((l) => l.startsWith("error: "))?.slice(7) ?? lines[0]}`);
    });
    this.worker.addEventListener("close", (e) => this.die(`graph worker exited (code ${(e as CloseEvent).code})`));
    this.post({ t: "init", ...init, flag: this.flag.buffer as SharedArrayBuffer });
  }

  get isAlive(): boolean {
    return this.alive;
  }

  upsert(seq: number, labels: number[], vectors: Float32Array): void {
    this.post({ t: "upsert", seq, labels, vectors });
  }

  delete(seq: number, labels: number[]): void {
    this.post({ t: "delete", seq, labels });
  }

  async search(query: Float32Array, k: number, ef: number, allowed?: Uint8Array): Promise<GraphHit[]> {
    // Raised before posting: the worker ends its insert slice at the next item instead of the slice's end.
    Atomics.add(this.flag, SEARCH_FLAG, 1);
    const msg = await this.request(this.nextId++, (id) => this.post({ t: "search", id, query, k, ef, allowed }));
    if (msg.t !== "hits") throw new Error("graph worker answered a search with something else");
    return msg.labels.map((label, i) => ({ label, distance: msg.distances[i]! }));
  }

  /**
   * Saves the graph to `path`; `capture(seq)` runs in the same turn as the worker's answer, before
   * any later report is handled, so what it reads of the applier is the state the file holds.
   */
  async save<T>(path: string, capture: (seq: number) => T): Promise<T> {
    let captured: T | undefined;
    await this.request(
      this.nextId++,
      (id) => this.post({ t: "save", id, path }),
      (msg) => {
        if (msg.t === "saved" && !msg.error) captured = capture(msg.seq);
      },
    );
    return captured as T;
  }

  /** Stops applying ops; resolves once the worker has reported everything it applied. */
  async stop(): Promise<void> {
    await this.request(this.nextId++, (id) => this.post({ t: "stop", id }));
  }

  /** Test-only: ignored by a worker not started with `faults` (see LiveIndexParts.testFaults). */
  fault(kind: "throw" | "exit"): void {
    this.post({ t: "fault", kind });
  }

  /** Ends the worker on purpose (close, drop): no `gone` event. */
  terminate(): void {
    this.ending = true;
    this.alive = false;
    this.rejectAll("the graph worker was stopped");
    this.worker.terminate();
  }

  private request(id: number, send: (id: number) => void, sync?: (msg: FromWorker) => void): Promise<FromWorker> {
    if (!this.alive) return Promise.reject(new WorkerGone("the graph worker is gone"));
    return new Promise<FromWorker>((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (msg) => {
          sync?.(msg);
          resolve(msg);
        },
        reject,
      });
      send(id);
    });
  }

  private post(msg: ToWorker): void {
    if (this.alive) this.worker.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    if (!this.alive) return;
    switch (msg.t) {
      case "applied":
        this.events.applied(msg);
        return;
      case "log":
        this.events.log(msg.level, msg.message, msg.fields);
        return;
      case "ready":
        this.settle(0, msg);
        return;
      case "failed":
        this.fail(msg.id, new Error(msg.error));
        return;
      case "saved":
        if (msg.error) this.fail(msg.id, new Error(msg.error));
        else this.settle(msg.id, msg);
        return;
      default:
        this.settle(msg.id, msg);
    }
  }

  private settle(id: number, msg: FromWorker): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    w?.resolve(msg);
  }

  private fail(id: number, err: Error): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    w?.reject(err);
  }

  private rejectAll(reason: string): void {
    for (const w of this.waiting.values()) w.reject(new WorkerGone(reason));
    this.waiting.clear();
  }

  private die(reason: string): void {
    if (!this.alive || this.ending) return;
    this.alive = false;
    this.rejectAll(reason);
    this.worker.terminate();
    this.events.gone(reason);
  }
}
