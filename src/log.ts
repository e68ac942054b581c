// One JSON object per line on stdout (info) or stderr (warn/error), so logs can be grepped and
// shipped without a parser. Callers pass fields, never whole config objects: secrets stay out.
// Info lines (the access log among them) are batched and written once per event-loop turn, so a
// busy server makes one write per batch instead of one per request; warnings and errors are
// written at once, after whatever info lines came before them.

export type Level = "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** Writes out anything batched; call before exiting. */
  flush?(): void;
  /**
   * The access log's fast path: the entry is kept as it is and formatted when the batch is
   * written, off the request's path. Loggers without it get `info("request", entry)`.
   */
  access?(entry: AccessEntry): void;
}

export interface AccessEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  bytes: number | null;
  /** Matches [\w.:-]{1,128} (the request context makes sure), so it needs no escaping. */
  request_id: string;
  /** When the response was ready (ms since the epoch): the line's ts. */
  at: number;
}

// The access log formats a line per request: reuse the timestamp within a millisecond and splice
// the fields' JSON instead of building a merged object.
let lastMs = 0;
let lastIso = "";
function isoAt(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

function format(level: Level, msg: string, fields?: Fields): string {
  const rest = fields ? JSON.stringify(fields) : "{}";
  return `{"ts":"${isoAt(Date.now())}","level":"${level}","msg":${JSON.stringify(msg)}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}\n`;
}

function formatAccess(e: AccessEntry): string {
  // The same line format() would write, spliced by hand: the path is the only field that can need
  // escaping (methods are HTTP tokens, ids are checked), and stringifying one string is cheaper
  // than stringifying the whole entry.
  const bytes = e.bytes === null ? "null" : String(e.bytes);
  return `{"ts":"${isoAt(e.at)}","level":"info","msg":"request","method":"${e.method}","path":${JSON.stringify(e.path)},"status":${e.status},"ms":${e.ms},"bytes":${bytes},"request_id":"${e.request_id}"}\n`;
}

const BATCH_BYTES = 64 * 1024;
/** Access entries waiting to be formatted; at most this many before a batch is written. */
const BATCH_ENTRIES = 512;
let pending = "";
let accessEntries: AccessEntry[] = [];
let scheduled = false;

function flushInfo(): void {
  scheduled = false;
  if (accessEntries.length > 0) flushAccessIntoPending();
  if (pending === "") return;
  const out = pending;
  pending = "";
  process.stdout.write(out);
}

function flushAccessIntoPending(): void {
  const entries = accessEntries;
  accessEntries = [];
  for (const e of entries) pending += formatAccess(e);
}

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushInfo);
  }
}

export const jsonLogger: Logger = {
  info(msg, fields) {
    // Access entries logged before this line are formatted first, so lines keep their order.
    if (accessEntries.length > 0) flushAccessIntoPending();
    pending += format("info", msg, fields);
    if (pending.length >= BATCH_BYTES) flushInfo();
    else schedule();
  },
  access(entry) {
    accessEntries.push(entry);
    if (accessEntries.length >= BATCH_ENTRIES) flushInfo();
    else schedule();
  },
  warn(msg, fields) {
    flushInfo();
    process.stderr.write(format("warn", msg, fields));
  },
  error(msg, fields) {
    flushInfo();
    process.stderr.write(format("error", msg, fields));
  },
  flush: flushInfo,
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Records lines in memory; tests use it to assert what was (and was not) logged. */
export function memoryLogger(): Logger & { lines: { level: Level; msg: string; fields?: Fields }[] } {
  const lines: { level: Level; msg: string; fields?: Fields }[] = [];
  return {
    lines,
    info: (msg, fields) => lines.push({ level: "info", msg, fields }),
    warn: (msg, fields) => lines.push({ level: "warn", msg, fields }),
    error: (msg, fields) => lines.push({ level: "error", msg, fields }),
  };
}
