// A mapper that turns a lower-level failure into a domain error keeps the original as `cause`, so
// the server log can say what really happened, while the message stays the one written for the
// caller (no local path, endpoint or upstream internals).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OllamaProvider } from "../src/embed/ollama.ts";
import { BadRequest, NotFound, Unavailable, UpstreamError, ValidationFailed } from "../src/errors.ts";
import { parseFilter } from "../src/filter/parse.ts";
import { silentLogger } from "../src/log.ts";
import { SqlEngine } from "../src/sql/engine.ts";
import { FsObjectStore } from "../src/storage/fs-store.ts";
import { S3ObjectStore } from "../src/storage/s3-store.ts";
import { deadUrl, startFakeOllama } from "./embed/fake-upstreams.ts";
import { type RunningS3, s3Options, startS3rver } from "./support/s3rver.ts";
import { tempDir } from "./support/tmp.ts";

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => Promise.reject(new Error("expected a rejection")),
    (err: unknown) => err as Error,
  );

describe("SQL engine", () => {
  test("DuckDB's error is the cause; the message leaves out the data directory", async () => {
    const dir = tempDir();
    const engine = await SqlEngine.open({
      allowedDirs: [dir],
      threads: 1,
      memoryLimit: "256MB",
      timeoutMs: 10_000,
      maxRows: 10,
      maxConcurrent: 1,
      maxStatementRss: 2 ** 30,
      maxTotalRss: 2 ** 31,
      maxResponseBytes: 2 ** 20,
      maxExportBytes: 2 ** 20,
      exportTimeoutMs: 10_000,
      exportDir: tempDir(),
      log: silentLogger,
      onReplayFailure: () => {},
    });
    try {
      const err = await rejection(engine.query(`SELECT * FROM read_parquet('${dir}/missing.parquet')`));
      expect(err).toBeInstanceOf(BadRequest);
      expect(err.message).not.toContain(dir);
      expect(err.cause).toBeInstanceOf(Error);
      expect((err.cause as Error).message).toContain(dir);
    } finally {
      await engine.close();
    }
  });
});

describe("embedding upstreams", () => {
  test("an unreachable server: UpstreamError caused by the transport's error", async () => {
    const err = await rejection(new OllamaProvider({ url: await deadUrl(), model: "m" }).embed(["a"]));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.cause).toBeInstanceOf(Error);
  });

  test("an answer that is not JSON: UpstreamError caused by the parse error", async () => {
    const fake = startFakeOllama();
    try {
      fake.behaviour.raw = "<html>gateway</html>";
      const err = await rejection(new OllamaProvider({ url: fake.url, model: "m" }).embed(["a"]));
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err.message).not.toContain("gateway");
      expect(err.cause).toBeInstanceOf(SyntaxError);
    } finally {
      await fake.stop();
    }
  });
});

describe("object stores", () => {
  test("fs: a missing object is NotFound caused by the filesystem's ENOENT", async () => {
    const store = await FsObjectStore.open(tempDir(), { fsync: false });
    const err = await rejection(store.get("no/such.txt"));
    expect(err).toBeInstanceOf(NotFound);
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3.stop());

  test("s3: a missing object is NotFound caused by the SDK's error", async () => {
    const store = await S3ObjectStore.open(s3Options(s3), silentLogger);
    try {
      const err = await rejection(store.get("no/such.txt"));
      expect(err).toBeInstanceOf(NotFound);
      expect((err.cause as Error).name).toBe("NoSuchKey");
    } finally {
      await store.close();
    }
  });

  test("s3: an unreachable endpoint is Unavailable caused by the SDK's error, without the endpoint in the message", async () => {
    const endpoint = await deadUrl();
    const err = await rejection(S3ObjectStore.open({ ...s3Options(s3), endpoint }, silentLogger));
    expect(err).toBeInstanceOf(Unavailable);
    expect(err.message).not.toContain(endpoint);
    expect(err.cause).toBeInstanceOf(Error);
  });
});

test("filter text: the parser's error is the cause of ValidationFailed", () => {
  let err: unknown;
  try {
    parseFilter("a = ");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationFailed);
  expect((err as Error).cause).toBeInstanceOf(Error);
});
