// Reading one open file of the fs store: a byte range resolved against its size, small reads in one
// call, larger ones streamed a chunk at a time. Size and bytes both come from the one open file, so
// a concurrent put (which renames a new file into place) can never tear a read.
import type { FileHandle } from "node:fs/promises";
import { RangeNotSatisfiable } from "../errors.ts";
import type { ByteRange } from "./store.ts";

const READ_CHUNK = 256 * 1024;
/** Objects (or ranges) up to this size are read in one call and the file closed at once. */
export const SMALL_READ = 64 * 1024;

export function resolveRange(size: number, range: ByteRange | undefined): { start: number; end: number } | undefined {
  if (!range) return undefined;
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (range.start >= size || range.start < 0 || end < range.start) {
    throw new RangeNotSatisfiable(`range starts past the end of the object (${size} bytes)`, { size });
  }
  return { start: range.start, end };
}

/** Reads `length` bytes at `position` and closes the file. */
export async function readWhole(fh: FileHandle, position: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const buf = new Uint8Array(length);
    let n = 0;
    while (n < length) {
      const { bytesRead } = await fh.read(buf, n, length - n, position + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return n === length ? buf : buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** Streams bytes [start, end) of the file, closing it at the end or on cancel. */
export function fileStream(file: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const want = Math.min(READ_CHUNK, end - position);
      if (want <= 0) {
        await file.close();
        controller.close();
        return;
      }
      const buf = new Uint8Array(want);
      const { bytesRead } = await file.read(buf, 0, want, position);
      if (bytesRead === 0) {
        await file.close();
        controller.close();
        return;
      }
      position += bytesRead;
      controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    },
    async cancel() {
      await file.close();
    },
  });
}
