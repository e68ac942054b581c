// Spools an upload to a local file while hashing it, under a byte cap: the body is never held whole
// in memory, and a body over the cap fails as soon as it passes it.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { BadRequest, TooLarge, UnsupportedMediaType } from "../errors.ts";
import { cappedStream } from "../lib/capped-stream.ts";
import type { StreamIn } from "../ops/operation.ts";
import { boundaryOf, extractPart } from "./multipart.ts";

export type UploadFormat = "csv" | "ndjson" | "parquet";

export interface Upload {
  bytes: number;
  sha256: string;
  /** The format its content type or file name says, if any. */
  declared?: UploadFormat;
}

const RAW_TYPES: Record<string, UploadFormat> = {
  "text/csv": "csv",
  "application/csv": "csv",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
  "application/jsonl": "ndjson",
  "application/x-jsonlines": "ndjson",
  "application/vnd.apache.parquet": "parquet",
  "application/x-parquet": "parquet",
};

function formatFromContentType(contentType: string | undefined): UploadFormat | undefined {
  return RAW_TYPES[(contentType ?? "").split(";")[0]!.trim().toLowerCase()];
}

function formatFromFilename(filename: string | undefined): UploadFormat | undefined {
  const ext = /\.([A-Za-z]+)$/.exec(filename ?? "")?.[1]?.toLowerCase();
  if (ext === "csv") return "csv";
  if (ext === "ndjson" || ext === "jsonl") return "ndjson";
  if (ext === "parquet") return "parquet";
  return undefined;
}

const WRITE_BATCH = 4 * 1024 * 1024;

const tooLarge = (limit: number) => new TooLarge(`upload is over the ${limit}-byte limit`, { limit_bytes: limit });

/** Writes the upload in `input` to `path` (which must not exist). */
export async function spoolUpload(input: StreamIn, path: string, limit: number): Promise<Upload> {
  const contentType = input.contentType ?? "";
  const isMultipart = contentType.toLowerCase().startsWith("multipart/form-data");
  // A multipart body carries a little framing around the file. A declared length over the cap is
  // refused before a byte is read.
  if ((input.length ?? Number.NaN) > limit + (isMultipart ? 64 * 1024 : 0)) throw tooLarge(limit);
  const body = input.body;
  if (!body) throw new BadRequest("the upload is empty");

  const hash = createHash("sha256");
  const fh = await open(path, "wx");
  let bytes = 0;
  // Request chunks are small; writing them in batches saves most of the system calls. One batch
  // is written while the next is received and hashed.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let writing: Promise<void> = Promise.resolve();
  const writeAll = async (batch: Uint8Array) => {
    let offset = 0;
    while (offset < batch.byteLength) offset += (await fh.write(batch, offset, batch.byteLength - offset)).bytesWritten;
  };
  const flush = async () => {
    const batch = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await writing;
    writing = writeAll(batch);
    // Handled here so a failed write (a full disk) cannot surface as an unhandled rejection while
    // the next batch is received; the next `await writing` still throws it.
    writing.catch(() => {});
  };
  const sink = async (chunk: Uint8Array) => {
    bytes += chunk.byteLength;
    if (bytes > limit) throw tooLarge(limit);
    hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes >= WRITE_BATCH) await flush();
  };
  try {
    let declared: UploadFormat | undefined;
    if (isMultipart) {
      const counted = cappedStream(body, limit + 64 * 1024, () => tooLarge(limit));
      const part = await extractPart(counted, boundaryOf(contentType), "file", sink);
      if (!part) throw new BadRequest('the multipart body has no "file" field');
      declared = formatFromContentType(part.contentType) ?? formatFromFilename(part.filename);
    } else {
      for await (const chunk of body) await sink(chunk);
      declared = formatFromContentType(contentType);
      if (!declared && contentType && !/^application\/octet-stream\b/i.test(contentType)) {
        throw new UnsupportedMediaType(
          `unsupported upload type "${contentType.split(";")[0]}"; send text/csv, application/x-ndjson, application/vnd.apache.parquet or multipart/form-data`,
        );
      }
    }
    await flush();
    await writing;
    return { bytes, sha256: hash.digest("hex"), declared };
  } finally {
    await writing.catch(() => {});
    await fh.close();
  }
}
