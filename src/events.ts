// The in-process event bus: modules publish what happened (a catalog commit, an ingest, a
// playbook outcome, an index created or lost) without knowing who listens; the SQL views and,
// next, the observer subscribe. Typed by topic, so a publisher and its subscribers agree on the
// payload at compile time.
import type { VersionOp } from "./catalog/manifest.ts";
import type { Logger } from "./log.ts";

export interface DatasetRef {
  name: string;
  dataset_id: string;
  version: number;
  fingerprint: string;
  row_count: number;
}

export interface LakehouseEvents {
  /** A dataset version was committed (created, replaced, appended, or deleted when `deleted`). */
  "catalog.committed": DatasetRef & { op: VersionOp; deleted: boolean };
  /** An upload became (part of) a dataset. */
  "ingest.completed": { name: string; rows: number; bytes: number; ms: number; result: "created" | "replaced" | "appended" | "unchanged" };
  /** Outcomes were recorded against search results. */
  "matrix.playbooks_recorded": { count: number; corpora: string[]; outcomes: { success: number; failure: number } };
  "matrix.corpus_built": { name: string; dataset: string; state: "ready" | "failed"; rows: number; error?: string };
  "vector.index_created": { name: string; dim: number; metric: string };
  "vector.index_dropped": { name: string };
  /** An index could not be opened (damaged log or snapshot): it answers 503 until dropped. */
  "vector.index_unavailable": { name: string; reason: string };
}

export type Topic = keyof LakehouseEvents;
export type Listener<T extends Topic> = (payload: LakehouseEvents[T]) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Map<Topic, Listener<Topic>[]>();

  constructor(private readonly log: Logger) {}

  /** Subscribes; returns the function that unsubscribes. */
  on<T extends Topic>(topic: T, listener: Listener<T>): () => void {
    const list = this.listeners.get(topic) ?? [];
    list.push(listener as Listener<Topic>);
    this.listeners.set(topic, list);
    return () => {
      const now = this.listeners.get(topic) ?? [];
      this.listeners.set(
        topic,
        now.filter((l) => l !== listener),
      );
    };
  }

  /**
   * Publishes and waits for every listener, in subscription order, so that a write's caller sees
   * its effects (the SQL view of a just-committed dataset) when the write returns. A failing
   * listener is logged and does not stop the others or the publisher.
   */
  async publish<T extends Topic>(topic: T, payload: LakehouseEvents[T]): Promise<void> {
    const list = this.listeners.get(topic);
    if (!list) return;
    for (const listener of list) {
      try {
        await listener(payload);
      } catch (err) {
        this.log.error("event listener failed", { topic, error: String(err) });
      }
    }
  }
}
