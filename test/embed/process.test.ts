// The real server as a child process: the OpenAI key must not appear in anything it prints or answers.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { runToExit, startChild } from "../support/child.ts";
import { call, post } from "../support/http.ts";
import { tempDir } from "../support/tmp.ts";
import { type FakeUpstream, startFakeOpenAI } from "./fake-upstreams.ts";

const WRONG_KEY = "sk-proj-NEVERPRINT0123456789abcdef";
let openai: FakeUpstream;
beforeAll(() => {
  openai = startFakeOpenAI("sk-proj-the-right-one-0000000000");
});
afterAll(() => openai.stop());

test("a rejected key gives 502 and degraded health, and is never printed or returned", async () => {
  const child = await startChild({
    LH_STORAGE_FS_ROOT: tempDir("lh-embed-"),
    LH_SERVER_ACCESS_LOG: "true",
    LH_EMBED_PROVIDER: "openai",
    LH_EMBED_OPENAI_URL: `${openai.url}/v1`,
    LH_EMBED_OPENAI_API_KEY: WRONG_KEY,
  });
  try {
    const res = await post(child.url, "/v1/embed", { texts: ["hello"] });
    const body = await res.text();
    const health = await (await call(child.url, "/health")).text();
    expect(res.status).toBe(502);
    expect(JSON.parse(health).modules.embed).toBe("degraded");
    expect(openai.requests.at(-1)!.headers.get("authorization")).toBe(`Bearer ${WRONG_KEY}`);
    child.proc.kill("SIGTERM");
    await child.proc.exited;
    const printed = child.stdout() + child.stderr();
    expect(printed).toContain('"status":502');
    for (const text of [body, health, printed]) {
      expect(text).not.toContain("NEVERPRINT");
      expect(text).not.toContain(openai.url);
    }
  } finally {
    child.proc.kill("SIGKILL");
  }
});

test("a config error next to the key does not print the key", async () => {
  const run = await runToExit({ LH_EMBED_OPENAI_URL: "ftp://example", LH_EMBED_OPENAI_API_KEY: WRONG_KEY });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain("embed.openai.url");
  expect(run.stdout + run.stderr).not.toContain("NEVERPRINT");
});
