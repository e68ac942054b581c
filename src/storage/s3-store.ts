// S3 backend (AWS S3, MinIO, s3rver). Large bodies stream up as multipart uploads (lib-storage
// keeps at most `queueSize` parts of `partSize` in memory); a failed or over-cap upload is aborted
// so no partial object remains. Errors are mapped to domain errors with messages that never carry
// credentials or the endpoint's internals.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Conflict, LakehouseError, NotFound, RangeNotSatisfiable, Unavailable, Unsupported } from "../errors.ts";
import { KeyedLock } from "../lib/keyed-lock.ts";
import type { Logger } from "../log.ts";
import { assertValidKey, assertValidPrefix } from "./keys.ts";
import {
  type Body,
  type ByteRange,
  DEFAULT_LIST_LIMIT,
  decodeCursor,
  encodeCursor,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  toStream,
} from "./store.ts";

export interface S3Options {
  endpoint: string;
  region: string;
  bucket: string;
  path_style: boolean;
  access_key_id: string;
  secret_access_key: string;
  part_size_bytes: number;
  conditional_writes: "auto" | "required" | "emulate";
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  return (err as { name?: string })?.name ?? "Error";
}

/**
 * Maps SDK failures to domain errors; our own errors (e.g. TooLarge from a capped body) pass
 * through. The SDK error is kept as the cause for the server log: its message can name the
 * endpoint or the bucket, so only its name and status reach the caller.
 */
function mapError(err: unknown, key: string): Error {
  if (err instanceof LakehouseError) return err;
  const name = nameOf(err);
  const status = statusOf(err);
  const opts = { cause: err };
  if (name === "NoSuchKey" || name === "NotFound" || status === 404) return new NotFound(`object "${key}" not found`, undefined, opts);
  if (name === "InvalidRange" || status === 416) return new RangeNotSatisfiable("range starts past the end of the object", undefined, opts);
  if (err instanceof S3ServiceException) return new Unavailable(`object store refused the request (${name}, HTTP ${status ?? "?"})`, undefined, opts);
  return new Unavailable(`object store is unreachable (${name})`, undefined, opts);
}

class ShortRead extends Unavailable {}

/**
 * Fails the stream when fewer bytes arrive than the response declared. S3 itself serves whole
 * versions, but servers that write objects in place (s3rver) or a dropped connection can end a body
 * early; a caller must get an error, never a silently torn object.
 */
function lengthChecked(key: string, expected: number | undefined): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (expected !== undefined && seen !== expected) {
        controller.error(new ShortRead(`object "${key}" ended after ${seen} of ${expected} bytes (changed or dropped while being read); retry`));
      }
    },
  });
}

export class S3ObjectStore implements ObjectStore {
  readonly backend = "s3" as const;
  /** False when the server ignores If-None-Match: * and put-if-absent is emulated in-process. */
  conditionalWrites = true;
  /** Orders emulated put-if-absent calls per key (this process only, hence "emulated"). */
  private readonly locks = new KeyedLock();

  private constructor(
    private readonly client: S3Client,
    private readonly opts: S3Options,
  ) {}

  static async open(opts: S3Options, log: Logger): Promise<S3ObjectStore> {
    const client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: opts.path_style,
      credentials: opts.access_key_id ? { accessKeyId: opts.access_key_id, secretAccessKey: opts.secret_access_key } : undefined,
      maxAttempts: 3,
    });
    const store = new S3ObjectStore(client, opts);
    if (opts.conditional_writes === "emulate") store.conditionalWrites = false;
    else if (!(await store.probeConditionalWrites())) {
      if (opts.conditional_writes === "required") {
        client.destroy();
        throw new Unsupported(
          'the S3 server ignores If-None-Match: * on PUT, so put-if-absent cannot be atomic; use a server that supports conditional writes (AWS S3, MinIO) or set storage.s3.conditional_writes = "emulate"',
        );
      }
      store.conditionalWrites = false;
      log.warn("S3 server ignores If-None-Match: *; put-if-absent is emulated in this process (safe for one process per bucket only)", {
        bucket: opts.bucket,
      });
    }
    return store;
  }

  /** Writes one probe object twice with If-None-Match: *; a server that honours it refuses the second. */
  private async probeConditionalWrites(): Promise<boolean> {
    const key = `_probe/conditional-${crypto.randomUUID()}`;
    const put = () => this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: "probe", IfNoneMatch: "*" }));
    try {
      await put();
    } catch (err) {
      throw mapError(err, key);
    }
    try {
      await put();
      return false;
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 409) return true;
      if (statusOf(err) === 501 || nameOf(err) === "NotImplemented") return false;
      throw mapError(err, key);
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key })).catch(() => {});
    }
  }

  async put(key: string, body: Body, opts: { contentType?: string } = {}): Promise<ObjectInfo> {
    assertValidKey(key);
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.opts.bucket, Key: key, Body: toStream(body), ContentType: opts.contentType },
        partSize: this.opts.part_size_bytes,
        queueSize: 2,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (err) {
      throw mapError(err, key);
    }
    const info = await this.head(key);
    if (!info) throw new Unavailable(`object "${key}" was not visible after upload`);
    return info;
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<ObjectInfo> {
    assertValidKey(key);
    if (!this.conditionalWrites) return this.locks.run(key, () => this.emulatedPutIfAbsent(key, body));
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: body, IfNoneMatch: "*" }));
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 409) throw new Conflict(`object "${key}" already exists`, undefined, { cause: err });
      throw mapError(err, key);
    }
    return (await this.head(key))!;
  }

  private async emulatedPutIfAbsent(key: string, body: Uint8Array | string): Promise<ObjectInfo> {
    if (await this.head(key)) throw new Conflict(`object "${key}" already exists`);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: body }));
    } catch (err) {
      throw mapError(err, key);
    }
    return (await this.head(key))!;
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.opts.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end ?? ""}` : undefined,
        }),
      );
      const info: ObjectInfo = {
        key,
        size: range ? Number(/\/(\d+)$/.exec(res.ContentRange ?? "")?.[1] ?? res.ContentLength ?? 0) : (res.ContentLength ?? 0),
        etag: (res.ETag ?? "").replace(/"/g, ""),
        lastModified: res.LastModified ?? new Date(0),
      };
      const served = range ? /bytes (\d+)-(\d+)\//.exec(res.ContentRange ?? "") : null;
      const raw = (res.Body as { transformToWebStream(): ReadableStream<Uint8Array> }).transformToWebStream();
      const body = raw.pipeThrough(lengthChecked(key, res.ContentLength));
      return { info, body, range: served ? { start: Number(served[1]), end: Number(served[2]) } : undefined };
    } catch (err) {
      throw mapError(err, key);
    }
  }

  async getBytes(key: string): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      const { body } = await this.get(key);
      try {
        return new Uint8Array(await new Response(body).arrayBuffer());
      } catch (err) {
        if (!(err instanceof ShortRead) || attempt === 3) throw err;
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      return { key, size: res.ContentLength ?? 0, etag: (res.ETag ?? "").replace(/"/g, ""), lastModified: res.LastModified ?? new Date(0) };
    } catch (err) {
      if (statusOf(err) === 404 || nameOf(err) === "NotFound") return null;
      throw mapError(err, key);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    assertValidPrefix(prefix);
    const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
    try {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, MaxKeys: limit, StartAfter: decodeCursor(opts.cursor) }),
      );
      const items = (res.Contents ?? []).map((o) => ({
        key: o.Key!,
        size: o.Size ?? 0,
        etag: (o.ETag ?? "").replace(/"/g, ""),
        lastModified: o.LastModified ?? new Date(0),
      }));
      return res.IsTruncated && items.length > 0 ? { items, cursor: encodeCursor(items.at(-1)!.key) } : { items };
    } catch (err) {
      throw mapError(err, prefix);
    }
  }

  async delete(key: string): Promise<boolean> {
    if (!(await this.head(key))) return false;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      return true;
    } catch (err) {
      throw mapError(err, key);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
