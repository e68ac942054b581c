import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { convertWink } from "../../src/embed/words-convert.ts";
import { WordsEmbedder } from "../../src/embed/words-embedder.ts";
import { decodeWordsTable, encodeWordsTable } from "../../src/embed/words-format.ts";
import { testLakehouse } from "../support/app.ts";
import { send } from "../support/http.ts";
import { tempDir } from "../support/tmp.ts";
import { DIM, syntheticWink } from "./words-fixture.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

const bytes = encodeWordsTable(convertWink(syntheticWink(), { model: "words-test", buckets: 1024, corpusSentences: 500 }));
const expected = new WordsEmbedder(decodeWordsTable(bytes));

describe("POST /v1/embed with embed.provider = words", () => {
  let lh: Lh;
  beforeAll(async () => {
    const table = join(tempDir(), "words.bin");
    writeFileSync(table, bytes);
    lh = await testLakehouse({ embed: { provider: "words", words: { table } } });
  });
  afterAll(() => lh.close());

  test("answers the table's model, its dimension and the SIF vectors", async () => {
    const res = await send(lh, "POST", "/v1/embed", { texts: ["forklift driver", "nurse on the ward", "forklifts"] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; dimension: number; vectors: number[][] };
    expect(body).toEqual({
      model: "words-test",
      dimension: DIM,
      vectors: [expected.embed("forklift driver"), expected.embed("nurse on the ward"), expected.embed("forklifts")],
    });
  });

  test("another model is a 400 naming the ones it serves; the offline hash models are served whatever the provider", async () => {
    const res = await send(lh, "POST", "/v1/embed", { texts: ["car"], model: "nomic-embed-text" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toBe('no embedding model "nomic-embed-text" here: the offline models are "hash-<8..8192>", "words-test", "words-test+hash256"');
    const hash = await send(lh, "POST", "/v1/embed", { texts: ["car"], model: "hash-64" });
    expect(hash.status).toBe(200);
    expect(await hash.json()).toMatchObject({ model: "hash-64", dimension: 64 });
    const joined = await send(lh, "POST", "/v1/embed", { texts: ["car"], model: "words-test+hash256" });
    expect(await joined.json()).toMatchObject({ model: "words-test+hash256", dimension: DIM + 256 });
  });

  test("the embed module runs the words provider, the one other modules embed through", () => {
    expect(lh.embed.embedder.provider.name).toBe("words");
    expect(lh.embed.embedder.provider.dimension).toBe(DIM);
  });
});

test("a configured table that is missing stops start-up with what to run", async () => {
  const table = join(tempDir(), "missing.bin");
  await expect(testLakehouse({ embed: { provider: "words", words: { table } } })).rejects.toThrow(/build-words/);
});

test("embed.words.table can come from the environment", () => {
  const { config } = loadConfig({ defaultPath: join(tempDir(), "absent.toml"), env: { LH_EMBED_PROVIDER: "words", LH_EMBED_WORDS_TABLE: "/srv/words.bin" } });
  expect(config.embed.provider).toBe("words");
  expect(config.embed.words.table).toBe("/srv/words.bin");
});
