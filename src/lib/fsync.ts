// Durability by path. A rename, link or new file is on disk only once its directory is fsynced;
// a file written by a library that closes its own handle (hnswlib) is fsynced by reopening it.
// Async for request paths, sync for the vector log and graph, which write synchronously.
import { closeSync, constants, fsyncSync, openSync } from "node:fs";
import { open } from "node:fs/promises";

/** fsyncs a directory or a file named by path. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory or a file named by path, synchronously. */
export function fsyncPathSync(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
