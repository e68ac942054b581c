// A streaming multipart/form-data reader: it hands the bytes of one named file field to a sink as
// they arrive, so an upload is never held whole in memory. Other fields are read and dropped.
import { BadRequest } from "../errors.ts";

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");

export interface PartInfo {
  filename?: string;
  contentType?: string;
}

export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 70) throw new BadRequest("multipart body without a valid boundary");
  return boundary;
}

function parseHeaders(block: string): { name?: string; info: PartInfo } {
  const info: PartInfo = {};
  let name: string | undefined;
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "content-disposition") {
      name = /\bname="([^"]*)"/i.exec(value)?.[1];
      info.filename = /\bfilename="([^"]*)"/i.exec(value)?.[1];
    } else if (key === "content-type") info.contentType = value;
  }
  return { name, info };
}

/**
 * Streams the first part named `field` into `sink`; returns its headers, or null when the body has
 * no such part. Throws BadRequest on a malformed body.
 */
export async function extractPart(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  field: string,
  sink: (chunk: Uint8Array) => Promise<void>,
): Promise<PartInfo | null> {
  // A leading CRLF makes the first boundary look like every later one.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buf: Buffer = Buffer.from("\r\n");
  let state = "preamble" as "preamble" | "after-delimiter" | "headers" | "body" | "done";
  let current: { name?: string; info: PartInfo } | null = null;
  let found: PartInfo | null = null;
  const wanted = () => current?.name === field && found === null;

  const step = async (): Promise<boolean> => {
    if (state === "preamble") {
      const i = buf.indexOf(delimiter);
      if (i < 0) {
        buf = buf.subarray(Math.max(0, buf.length - delimiter.length));
        return false;
      }
      buf = buf.subarray(i + delimiter.length);
      state = "after-delimiter";
      return true;
    }
    if (state === "after-delimiter") {
      if (buf.length < 2) return false;
      const two = buf.subarray(0, 2).toString("latin1");
      if (two === "--") {
        state = "done";
        return false;
      }
      if (two !== "\r\n") throw new BadRequest("malformed multipart body: bad boundary line");
      buf = buf.subarray(2);
      state = "headers";
      return true;
    }
    if (state === "headers") {
      const i = buf.indexOf(CRLF2);
      if (i < 0) {
        if (buf.length > MAX_HEADER_BYTES) throw new BadRequest("malformed multipart body: part headers too long");
        return false;
      }
      current = parseHeaders(buf.subarray(0, i).toString("utf8"));
      buf = buf.subarray(i + 4);
      state = "body";
      return true;
    }
    if (state === "body") {
      const i = buf.indexOf(delimiter);
      if (i >= 0) {
        if (wanted()) {
          if (i > 0) await sink(buf.subarray(0, i));
          found = current!.info;
        }
        buf = buf.subarray(i + delimiter.length);
        state = "after-delimiter";
        return true;
      }
      // Keep a tail that could be the start of a delimiter split across chunks.
      const safe = Math.max(0, buf.length - delimiter.length + 1);
      if (safe > 0) {
        if (wanted()) await sink(buf.subarray(0, safe));
        buf = buf.subarray(safe);
      }
      return false;
    }
    return false;
  };

  for await (const chunk of body) {
    if (state === "done") continue;
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    while (await step());
  }
  if (state !== "done") throw new BadRequest("malformed multipart body: it ends before its closing boundary");
  return found;
}
