// The typed services modules offer each other, in one place for every consumer: rows of a
// dataset, vector indexes, text embeddings, read-only SQL. The providing module implements its
// port (src/<module>/port.ts); app.ts hands them to the modules that need them, so no module
// imports another's internals.
import type { FilterInput } from "./filter/parse.ts";
import type { Row } from "./matrix/rows.ts";

export type IdValue = string | number;

export interface DatasetInfo {
  columns: string[];
  rows: number;
  /** Changes whenever the dataset is appended to or replaced. */
  version: number;
}

export interface RowSource {
  /** Throws NotFound when the dataset does not exist. */
  describe(dataset: string): Promise<DatasetInfo>;
  /** Up to `limit` rows ordered by `idColumn`, starting after `after` (keyset pagination). */
  page(dataset: string, columns: readonly string[], idColumn: string, after: IdValue | null, limit: number): Promise<Row[]>;
}

export interface VectorItem {
  id: string;
  vector: readonly number[];
  metadata: Record<string, unknown>;
}

export interface VectorHit {
  id: string;
  score: number;
  metadata: Record<string, unknown>;
}

export interface VectorPort {
  hasIndex(name: string): boolean;
  /** A cosine index of dimension `dim`. */
  createIndex(name: string, dim: number): Promise<void>;
  dropIndex(name: string): Promise<void>;
  /** Durable when it returns. */
  upsert(name: string, items: readonly VectorItem[]): Promise<void>;
  remove(name: string, ids: readonly string[]): Promise<void>;
  /** Best first; the filter is the shared filter language (src/filter), applied inside the search. */
  search(name: string, vector: readonly number[], k: number, filter?: FilterInput): Promise<VectorHit[]>;
  /** The same search, also saying how many items were scored exactly because the graph did not hold them yet. */
  searchCounted(name: string, vector: readonly number[], k: number, filter?: FilterInput): Promise<{ hits: VectorHit[]; pending_scanned: number }>;
  /** The stored vector and metadata, or undefined for an unknown id. */
  get(name: string, id: string): Promise<VectorItem | undefined>;
  /** The stored metadata alone (cheaper than `get`), or undefined for an unknown id. */
  metadata(name: string, id: string): Record<string, unknown> | undefined;
  /**
   * A test of "does item `id` pass `filter`" for testing many ids (undefined filter: "is `id` in the
   * index"); false for unknown ids. $eq and $in on plain fields are answered from the index's
   * equality postings without reading metadata. It answers for the index as it is when made: use
   * it synchronously, not across an await. A bad filter throws ValidationFailed.
   */
  filterAccept(name: string, filter?: FilterInput): (id: string) => boolean;
  /**
   * The ids that pass `filter`, when the index's equality postings answer it exactly ($eq/$in on
   * plain fields, and nothing else), with the index's write sequence they are valid for; null
   * otherwise (test with filterAccept). Cheap: no metadata is read.
   */
  filterIds(name: string, filter: FilterInput): { ids: readonly string[]; seq: number } | null;
  stats(name: string): { count: number; pending: number; dim: number };
}

export interface EmbedPort {
  readonly maxBatch: number;
  readonly defaultModel: string;
  /** The model new indexes (corpora, a memory store) are built with when they name none. */
  readonly indexModel: string;
  /** Whether a word is among the most frequent in English (a filler such as "near", "available"); false when it cannot tell. */
  commonWord(word: string): boolean;
  embed(texts: readonly string[], model?: string): Promise<{ model: string; dimension: number; vectors: readonly (readonly number[])[] }>;
}

export interface SqlPort {
  /** One read-only statement under the same sandbox and limits as POST /v1/sql. */
  query(
    sql: string,
    params?: readonly (string | number | boolean | null)[],
    opts?: { maxRows?: number },
  ): Promise<{
    columns: { name: string; type: string }[];
    rows: unknown[][];
    row_count: number;
    truncated: boolean;
  }>;
}

/** Read-only SQL views over files a module writes itself (pathway_traces, observer_events). */
export interface SqlViewPort {
  /** A local directory of the owner's that the SQL workers may read: write a view's files here (a temp name, then rename). */
  viewDir(owner: "pathway" | "observer"): string;
  /**
   * Creates or replaces the read-only view `name` as `select` (SQL over files in the owner's
   * viewDir) in every SQL worker, before it resolves. A name a dataset has is refused (Conflict).
   */
  publishView(name: string, select: string): Promise<void>;
  dropView(name: string): Promise<void>;
}

/** Writing a dataset from inside the process (the observer's distillation export): the same path as POST /v1/ingest/{name}. */
export interface DatasetWriterPort {
  /**
   * Loads `ndjson` (one JSON object per line) into dataset `name` as its next version. `mode`
   * absent: create only. Answers like the ingest operation (result created, replaced, appended or
   * unchanged; 409 when the dataset exists and no mode was given).
   */
  writeNdjson(
    name: string,
    ndjson: ReadableStream<Uint8Array> | Uint8Array,
    opts: { mode?: "replace" | "append"; schema?: "strict" | "evolve"; actor?: string },
  ): Promise<{ name: string; rows: number; version?: number; result: "created" | "replaced" | "appended" | "unchanged" }>;
}
