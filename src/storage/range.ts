// HTTP Range header → a byte range. Only single ranges are served; anything else (multiple ranges,
// other units, bad syntax) is ignored as RFC 9110 allows, and the whole object is sent.
import type { ByteRange } from "./store.ts";

export type ParsedRange = ByteRange | { suffix: number } | null;

export function parseRangeHeader(header: string | undefined): ParsedRange {
  const m = /^bytes=(\d*)-(\d*)$/.exec((header ?? "").trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  if (m[2] === "") return { start };
  const end = Number(m[2]);
  return end < start ? null : { start, end };
}

/** Turns a suffix range ("the last N bytes") into a start/end range once the size is known. */
export function resolveSuffix(range: { suffix: number }, size: number): ByteRange {
  return { start: Math.max(0, size - range.suffix), end: size - 1 };
}
