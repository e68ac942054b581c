// Model routing (src/embed/routed.ts): the offline models are served whatever provider is
// configured, so a corpus or memory index built with one keeps working when embed.provider
// changes; any other name goes to the configured provider; the index model is chosen at open.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HashProvider, hashEmbed } from "../../src/embed/hash-embedder.ts";
import { embedPort } from "../../src/embed/port.ts";
import { RoutedProvider } from "../../src/embed/routed.ts";
import { convertWink } from "../../src/embed/words-convert.ts";
import { WordsEmbedder, WordsProvider, withHash } from "../../src/embed/words-embedder.ts";
import { decodeWordsTable, encodeWordsTable } from "../../src/embed/words-format.ts";
import { defaultWordsTablePath, WORDS_MODEL } from "../../src/embed/words-path.ts";
import { BadRequest } from "../../src/errors.ts";
import { testLakehouse } from "../support/app.ts";
import { tempDir } from "../support/tmp.ts";
import { syntheticWink } from "./words-fixture.ts";

const table = decodeWordsTable(encodeWordsTable(convertWink(syntheticWink(), { model: WORDS_MODEL, buckets: 1024, corpusSentences: 500 })));

/** A configured provider that records what it was asked. */
class Recording extends HashProvider {
  calls: (string | undefined)[] = [];
  override async embed(texts: readonly string[], model?: string): Promise<number[][]> {
    this.calls.push(model);
    if (model !== undefined) throw new BadRequest(`no model ${model}`);
    return super.embed(texts);
  }
}

describe("RoutedProvider", () => {
  test("no model and the default go to the configured provider; hash-N and the words models do not", async () => {
    const primary = new Recording(16);
    let loads = 0;
    let headerReads = 0;
    const p = new RoutedProvider(primary, {
      model: () => {
        headerReads++;
        return WORDS_MODEL;
      },
      load: () => {
        loads++;
        return new WordsProvider(table);
      },
    });
    expect(await p.embed(["forklift"])).toEqual([hashEmbed("forklift", 16)]);
    expect(await p.embed(["forklift"], "hash-16")).toEqual([hashEmbed("forklift", 16)]);
    expect(primary.calls).toEqual([undefined, undefined]);
    expect(await p.embed(["forklift"], "hash-384")).toEqual([hashEmbed("forklift", 384)]);
    const words = new WordsEmbedder(table);
    expect(await p.embed(["forklift"], WORDS_MODEL)).toEqual([words.embed("forklift")]);
    expect(await p.embed(["forklift"], `${WORDS_MODEL}+hash256`)).toEqual([withHash(words.embed("forklift"), "forklift")]);
    expect(loads).toBe(1);
    // The table's header is read once, not on every request naming a model.
    expect(headerReads).toBe(1);
    expect(primary.calls).toEqual([undefined, undefined]);
    // Any other name: an offline provider serves nothing else, and says what it serves.
    await expect(p.embed(["x"], "nomic-embed-text")).rejects.toThrow(
      `no embedding model "nomic-embed-text" here: the offline models are "hash-<8..8192>", "${WORDS_MODEL}", "${WORDS_MODEL}+hash256"`,
    );
    await expect(p.embed(["x"], "hash-9999")).rejects.toThrow("8 to 8192 dimensions");
    expect(p.wordsModels()).toEqual([WORDS_MODEL, `${WORDS_MODEL}+hash256`]);
  });

  test("without a table no words model is served; a table that fails to load is a 400 naming how to rebuild it", async () => {
    const none = new RoutedProvider(new HashProvider(16), { model: () => undefined, load: () => new WordsProvider(table) });
    expect(none.wordsModels()).toEqual([]);
    await expect(none.embed(["x"], WORDS_MODEL)).rejects.toThrow(`no embedding model "${WORDS_MODEL}" here: the offline models are "hash-<8..8192>"`);
    const damaged = new RoutedProvider(new HashProvider(16), {
      model: () => WORDS_MODEL,
      load: () => {
        throw new Error("checksum mismatch");
      },
    });
    await expect(damaged.embed(["x"], WORDS_MODEL)).rejects.toThrow("run `bun install`");
  });

  test("with a server provider configured, any other name is the server's to serve or refuse", async () => {
    const asked: (string | undefined)[] = [];
    const server = {
      name: "ollama" as const,
      defaultModel: "nomic-embed-text",
      dimension: undefined,
      embed: async (texts: readonly string[], model?: string) => {
        asked.push(model);
        return texts.map(() => [1, 0]);
      },
    };
    const p = new RoutedProvider(server, { model: () => WORDS_MODEL, load: () => new WordsProvider(table) });
    expect(await p.embed(["x"], "mxbai-embed-large")).toEqual([[1, 0]]);
    expect(await p.embed(["x"], "nomic-embed-text")).toEqual([[1, 0]]);
    expect(await p.embed(["x"], "hash-8")).toEqual([hashEmbed("x", 8)]);
    expect(asked).toEqual(["mxbai-embed-large", undefined]);
  });

  test("with the words provider configured, the hash models are still served", async () => {
    const p = new RoutedProvider(new WordsProvider(table), { model: () => undefined, load: () => new WordsProvider(table) });
    expect(await p.embed(["forklift"], "hash-32")).toEqual([hashEmbed("forklift", 32)]);
    expect(await p.embed(["forklift"], `${WORDS_MODEL}+hash256`)).toHaveLength(1);
  });

  test("the joined model is the word vector and the hash vector, weighted so cosines mix 0.7 / 0.3", () => {
    const words = new WordsEmbedder(table);
    const a = withHash(words.embed("forklift operator"), "forklift operator");
    const b = withHash(words.embed("lift truck driver"), "lift truck driver");
    const cos = (x: readonly number[], y: readonly number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    const wa = words.embed("forklift operator");
    const wb = words.embed("lift truck driver");
    const ha = hashEmbed("forklift operator", 256);
    const hb = hashEmbed("lift truck driver", 256);
    expect(a).toHaveLength(table.dim + 256);
    expect(cos(a, a)).toBeCloseTo(1, 9);
    expect(cos(a, b)).toBeCloseTo(0.7 * cos(wa, wb) + 0.3 * cos(ha, hb), 9);
  });
});

describe("embed.index_model", () => {
  test("auto: the joined words model with an offline provider and the table; the configured default otherwise", async () => {
    const path = join(tempDir(), "words.bin");
    writeFileSync(path, encodeWordsTable(convertWink(syntheticWink(), { model: WORDS_MODEL, buckets: 1024, corpusSentences: 500 })));
    const withTable = await testLakehouse({ embed: { words: { table: path } } });
    expect(withTable.embed.indexModel).toBe(`${WORDS_MODEL}+hash256`);
    await withTable.close();
    const without = await testLakehouse({ embed: { words: { table: join(tempDir(), "absent.bin") } } });
    expect(without.embed.indexModel).toBe("hash-384");
    await without.close();
    const named = await testLakehouse({ embed: { index_model: "hash-64" } });
    expect(named.embed.indexModel).toBe("hash-64");
    await named.close();
  });
});

describe.skipIf(!existsSync(defaultWordsTablePath))("common words (the installed table; built by `bun install`)", () => {
  test("the most frequent English words are common; the words of jobs and places are not", async () => {
    const lh = await testLakehouse();
    try {
      const port = embedPort(lh.embed.embedder, lh.embed.indexModel);
      for (const w of ["near", "available", "under", "officer"]) expect(port.commonWord(w)).toBe(true);
      for (const w of ["custodian", "truck", "mechanic", "forklift", "zzzqx"]) expect(port.commonWord(w)).toBe(false);
    } finally {
      await lh.close();
    }
  });
});
