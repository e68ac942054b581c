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
}

// The access log formats a line per request: reuse the timestamp within a millisecond and splice
// the fields' JSON instead of building a merged object.
let lastMs = 0;
let lastIso = "";
function format(level: Level, msg: string, fields?: Fields): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  const rest = fields ? JSON.stringify(fields) : "{}";
  return `{"ts":"${lastIso}","level":"${level}","msg":${JSON.stringify(msg)}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}\n`;
}

const BATCH_BYTES = 64 * 1024;
let pending = "";
let scheduled = false;

function flushInfo(): void {
  scheduled = false;
  if (pending === "") return;
  const out = pending;
  pending = "";
  process.stdout.write(out);
}

export const jsonLogger: Logger = {
  info(msg, fields) {
    pending += format("info", msg, fields);
    if (pending.length >= BATCH_BYTES) flushInfo();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flushInfo);
    }
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
