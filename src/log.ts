// One JSON object per line on stdout (info) or stderr (warn/error), so logs can be grepped and
// shipped without a parser. Callers pass fields, never whole config objects: secrets stay out.

export type Level = "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

function write(level: Level, msg: string, fields?: Fields): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }) + "\n";
  if (level === "info") process.stdout.write(line);
  else process.stderr.write(line);
}

export const jsonLogger: Logger = {
  info: (msg, fields) => write("info", msg, fields),
  warn: (msg, fields) => write("warn", msg, fields),
  error: (msg, fields) => write("error", msg, fields),
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
