// Child of scripts/bench/embed.ts: loads the words table in a fresh process and prints
// {load_ms, rss_before_mib, rss_after_mib, first_embed_ms} as JSON, so the RSS figure is the
// table's alone, not whatever the benchmark allocated before.
// usage: bun scripts/bench/words-load.ts [table path]
import { loadWordsTable, WordsEmbedder } from "../../src/embed/words-embedder.ts";
import { defaultWordsTablePath } from "../../src/embed/words-path.ts";

const path = Bun.argv[2] ?? defaultWordsTablePath;
Bun.gc(true);
const before = process.memoryUsage().rss;
const t0 = performance.now();
const table = loadWordsTable(path);
const t1 = performance.now();
const embedder = new WordsEmbedder(table);
embedder.embed("forklift operator night shift");
const t2 = performance.now();
const mib = (b: number) => b / 2 ** 20;
console.log(JSON.stringify({ load_ms: t1 - t0, first_embed_ms: t2 - t1, rss_before_mib: mib(before), rss_after_mib: mib(process.memoryUsage().rss) }));
