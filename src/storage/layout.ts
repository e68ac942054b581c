// The object-key layout: the one place that says which prefix of the store holds what and which
// module owns it. Modules build their keys from LAYOUT, never from a literal, so moving or adding
// state is an edit here. The public storage API sees the store through publicStore, which refuses
// writes and deletes under every reserved prefix: those objects are the lakehouse's own state, and
// a stray PUT or DELETE there would corrupt a catalog or an index behind its owner's back.
import { ReservedPrefix } from "../errors.ts";
import { assertValidKey } from "./keys.ts";
import type { ObjectStore } from "./store.ts";

/** Top-level prefixes the lakehouse manages. Reserving one for a new module is one line here. */
export const RESERVED = {
  /** catalog: one immutable manifest per dataset version, _catalog/<name>/<version>.json; the catalog's truth. */
  catalog: "_catalog/",
  /** catalog: the mutation journal, one immutable entry per _journal/<seq>.json. */
  journal: "_journal/",
  /** ingest writes, the catalog deletes replaced ones, SQL reads: datasets/<name>/<sha256>.parquet.
   * Like every prefix here it stays readable through the API: the Parquet is an external interface. */
  datasets: "datasets/",
  /** vector: index snapshots (graph, envelope, manifest.json) under _vectors/<index>/. */
  vectors: "_vectors/",
  /** matrix: corpus records, row-hash maps and playbooks. */
  matrix: "_matrix/",
  /** pathway, observer, workflows: reserved now for the modules that come next. */
  pathway: "_pathway/",
  observer: "_observer/",
  workflows: "_workflows/",
} as const;

export const RESERVED_PREFIXES: readonly string[] = Object.values(RESERVED);

/** Every prefix a module builds keys from: the reserved ones and their sub-folders. */
export const LAYOUT = {
  ...RESERVED,
  /** matrix: one record per corpus (spec, state, progress, calibration), <name>.json. */
  matrixCorpora: `${RESERVED.matrix}corpora/`,
  /** matrix: per-corpus row content hashes, what makes rebuilds incremental, <name>.json. */
  matrixHashes: `${RESERVED.matrix}hashes/`,
  /** matrix: one object per playbook, <id>.json. */
  matrixPlaybooks: `${RESERVED.matrix}playbooks/`,
  /** matrix: per-corpus BM25 segments, <corpus>/<seq>.base|.delta (src/matrix/lexical/segments.ts). */
  matrixLexical: `${RESERVED.matrix}lexical/`,
} as const;

/** What a module may touch: `own` is read, write and delete; `read`/`delete` grant just that. */
export interface Access {
  own: readonly string[];
  read?: readonly string[];
  delete?: readonly string[];
}

/** Who owns which prefix. Every reserved prefix has exactly one owner (a test holds this). */
export const OWNERSHIP = {
  catalog: { own: [RESERVED.catalog, RESERVED.journal], read: [RESERVED.datasets], delete: [RESERVED.datasets] },
  ingest: { own: [RESERVED.datasets] },
  sql: { own: [], read: [RESERVED.datasets] },
  vector: { own: [RESERVED.vectors] },
  matrix: { own: [RESERVED.matrix] },
  pathway: { own: [RESERVED.pathway] },
  observer: { own: [RESERVED.observer] },
  workflows: { own: [RESERVED.workflows] },
  /** The embedder keeps nothing in the store (its cache is in memory). */
  embed: { own: [] },
} as const satisfies Record<string, Access>;

export type Owner = keyof typeof OWNERSHIP;

/** The reserved prefix a key lies under, or null. The bare folder name counts too: an object
 * called "_catalog" would shadow the folder on the fs backend and stop the catalog writing. */
export function reservedPrefixOf(key: string): string | null {
  return RESERVED_PREFIXES.find((p) => key.startsWith(p) || key === p.slice(0, -1)) ?? null;
}

function reservedPrefixError(prefix: string): ReservedPrefix {
  return new ReservedPrefix(`keys under "${prefix}" are managed by the lakehouse and cannot be written or deleted through the storage API`, { prefix });
}

type Capped = { capFor(key: string): number };
type Op = "read" | "write" | "delete";

/** The store as the storage API may use it: reads and lists everything, writes and deletes
 * nothing under a reserved prefix. capFor refuses too, because the PUT route asks it before
 * reading a byte of the body, so a refused upload is never read, let alone stored. */
export function publicStore(store: ObjectStore & Capped): ObjectStore & Capped;
export function publicStore(store: ObjectStore): ObjectStore;
export function publicStore(store: ObjectStore & Partial<Capped>): ObjectStore & Partial<Capped> {
  return guarded(store, (op, key) => {
    if (op === "read") return;
    assertValidKey(key); // an invalid key is a 400 whatever its prefix
    const prefix = reservedPrefixOf(key);
    if (prefix) throw reservedPrefixError(prefix);
  });
}

/** A module's view of the store: only keys under prefixes OWNERSHIP grants it. Anything else is
 * a programming bug (a module writing into another's state), so it throws a plain Error. */
export function scopedStore(store: ObjectStore & Capped, owner: Owner): ObjectStore & Capped;
export function scopedStore(store: ObjectStore, owner: Owner): ObjectStore;
export function scopedStore(store: ObjectStore & Partial<Capped>, owner: Owner): ObjectStore & Partial<Capped> {
  const access: Access = OWNERSHIP[owner];
  const allowed = { read: [...access.own, ...(access.read ?? [])], write: access.own, delete: [...access.own, ...(access.delete ?? [])] };
  return guarded(store, (op, key) => {
    if (!allowed[op].some((p) => key.startsWith(p))) {
      throw new Error(`storage: module "${owner}" may not ${op} "${key}"; it may ${op} only under ${allowed[op].join(", ") || "nothing"}`);
    }
  });
}

/** Wraps every keyed call in a check; `list` checks its prefix as a read. The checks run inside
 * async functions so a refusal is a rejected promise, like any other store error. */
function guarded(inner: ObjectStore & Partial<Capped>, check: (op: Op, key: string) => void): ObjectStore & Partial<Capped> {
  const out: ObjectStore & Partial<Capped> = {
    backend: inner.backend,
    put: async (key, body, opts) => {
      check("write", key);
      return inner.put(key, body, opts);
    },
    putIfAbsent: async (key, body) => {
      check("write", key);
      return inner.putIfAbsent(key, body);
    },
    get: async (key, range) => {
      check("read", key);
      return inner.get(key, range);
    },
    getBytes: async (key) => {
      check("read", key);
      return inner.getBytes(key);
    },
    head: async (key) => {
      check("read", key);
      return inner.head(key);
    },
    list: async (prefix, opts) => {
      check("read", prefix);
      return inner.list(prefix, opts);
    },
    delete: async (key) => {
      check("delete", key);
      return inner.delete(key);
    },
    close: () => inner.close(),
  };
  const { capFor, localPath } = inner;
  if (capFor) {
    out.capFor = (key) => {
      check("write", key);
      return capFor.call(inner, key);
    };
  }
  if (localPath) {
    out.localPath = (key) => {
      check("read", key);
      return localPath.call(inner, key);
    };
  }
  return out;
}
