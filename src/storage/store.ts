// The object-store contract every backend (fs, s3) passes the same test suite against.
export type Body = Uint8Array | string | ReadableStream<Uint8Array>;

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/** Inclusive byte range; `end` omitted means to the end of the object. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetResult {
  info: ObjectInfo;
  body: ReadableStream<Uint8Array>;
  /** The same bytes, when the backend read a small object whole (cheaper to send than a stream). */
  bytes?: Uint8Array<ArrayBuffer>;
  /** The range served, inclusive, when a range was asked for. */
  range?: { start: number; end: number };
}

export interface ListPage {
  items: ObjectInfo[];
  /** Pass back to get the next page; absent on the last page. */
  cursor?: string;
}

export interface ListOptions {
  cursor?: string;
  limit?: number;
}

export interface ObjectStore {
  readonly backend: "fs" | "s3";
  /** Writes an object atomically: readers see the old bytes or the new, never a mix. */
  put(key: string, body: Body, opts?: { contentType?: string }): Promise<ObjectInfo>;
  /** Creates an object only if the key is free; otherwise throws Conflict. */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<ObjectInfo>;
  /** Throws NotFound for a missing key, RangeNotSatisfiable for a range past the end. */
  get(key: string, range?: ByteRange): Promise<GetResult>;
  getBytes(key: string): Promise<Uint8Array>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Keys in byte order, starting after the cursor. */
  list(prefix: string, opts?: ListOptions): Promise<ListPage>;
  /** Returns whether the object existed. */
  delete(key: string): Promise<boolean>;
  /** A path on this machine holding the object, when the backend keeps one (fs only). */
  localPath?(key: string): string;
  close(): Promise<void>;
}

export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 1000;

export function toStream(body: Body): ReadableStream<Uint8Array> {
  if (body instanceof ReadableStream) return body;
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

export async function streamToBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  return cursor === undefined || cursor === "" ? undefined : Buffer.from(cursor, "base64url").toString("utf8");
}
