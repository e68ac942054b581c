// A full disk is a 503 the caller did not cause; a client that hangs up is not a server failure.
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { Unavailable } from "../../src/errors.ts";
import type { AppEnv } from "../../src/http/env.ts";
import { makeOnError } from "../../src/http/error-envelope.ts";
import { diskFull, isDiskFull } from "../../src/lib/disk-full.ts";
import { memoryLogger } from "../../src/log.ts";

describe("disk full", () => {
  test("errno ENOSPC / EDQUOT and DuckDB's wording are a full disk; other failures are not", () => {
    expect(isDiskFull(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error("quota"), { code: "EDQUOT" }))).toBe(true);
    expect(isDiskFull('IO Error: Could not write file "/x/data.parquet": No space left on device')).toBe(true);
    expect(isDiskFull(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }))).toBe(false);
    expect(isDiskFull("Invalid Input Error: CSV line 3")).toBe(false);
    // A domain error already says what it is.
    expect(isDiskFull(new Unavailable("No space left on device"))).toBe(false);
  });

  test("the 503 says nothing was stored, asks for a retry and keeps the cause", () => {
    const cause = new Error("ENOSPC: /spool/path");
    const err = diskFull("the ingest spool", cause);
    expect(err.code).toBe("unavailable");
    expect(err.retryAfter).toBe(5);
    expect(err.cause).toBe(cause);
    expect(err.message).toBe("the ingest spool is out of disk space; nothing was stored, retry when space is free");
  });
});

test("a client that closed the connection is logged as such, not as an unhandled 500", async () => {
  const log = memoryLogger();
  const app = new Hono<AppEnv>();
  app.post("/upload", () => {
    throw new DOMException("The connection was closed.", "AbortError");
  });
  app.get("/boom", () => {
    throw new Error("real failure");
  });
  app.onError(makeOnError(log));
  const res = await app.request("/upload", { method: "POST", body: "x" });
  expect(res.status).toBe(400);
  expect(log.lines.find((l) => l.msg === "unhandled error")).toBeUndefined();
  expect(log.lines.find((l) => l.msg === "client closed the request")?.level).toBe("info");
  // A real failure is still a logged 500.
  expect((await app.request("/boom")).status).toBe(500);
  expect(log.lines.find((l) => l.msg === "unhandled error")?.level).toBe("error");
});
