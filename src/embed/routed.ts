// Which provider embeds a request, by the model it names: the offline models are served whatever
// provider is configured — "hash-<dimension>" by the hash embedder, the words models by the words
// table — so a corpus or a memory store built with one keeps working after the configured provider
// changes, and new ones can default to the words model (config `embed.index_model`). Any other
// name, and no name, go to the configured provider.
import { BadRequest } from "../errors.ts";
import { HashProvider } from "./hash-embedder.ts";
import type { EmbedProvider, ProviderName } from "./provider.ts";
import { WITH_HASH_SUFFIX, WordsProvider } from "./words-embedder.ts";

const HASH_MODEL = /^hash-(\d{1,5})$/;
const MIN_HASH_DIM = 8;
const MAX_HASH_DIM = 8192;

/** The words table: its model name from the file's header (cheap), the provider loaded on first use. */
export interface WordsSource {
  /** The table's model name; undefined when no readable table is installed. */
  model(): string | undefined;
  /** Reads the whole table (≈40 ms, +49 MiB); throws when it cannot. */
  load(): WordsProvider;
}

export class RoutedProvider implements EmbedProvider {
  readonly #hash = new Map<number, HashProvider>();
  #words: WordsProvider | undefined;
  #wordsFailed = false;
  /** The table's model name once its header has been read (a table not found is looked for again). */
  #wordsModel: string | undefined;

  constructor(
    readonly primary: EmbedProvider,
    private readonly wordsSource: WordsSource,
  ) {}

  get name(): ProviderName {
    return this.primary.name;
  }
  get defaultModel(): string {
    return this.primary.defaultModel;
  }
  get dimension(): number | undefined {
    return this.primary.dimension;
  }

  /** The words table's models (the table's own, and joined with hashed features); empty without a table. */
  wordsModels(): string[] {
    // Read once: every embed call naming a model other than the provider's default asks.
    this.#wordsModel ??= this.primary.name === "words" ? this.primary.defaultModel : this.wordsSource.model();
    const model = this.#wordsModel;
    return model === undefined ? [] : [model, `${model}${WITH_HASH_SUFFIX}`];
  }

  /** A word's frequency rank in English from the words table (loaded on first use); undefined without a table or for an unknown word. */
  wordRank(word: string): number | undefined {
    const words = this.primary instanceof WordsProvider ? this.primary : this.#loadWords();
    return words?.rank(word);
  }

  #loadWords(): WordsProvider | undefined {
    if (this.#words === undefined && !this.#wordsFailed && this.wordsModels().length > 0) {
      try {
        this.#words = this.wordsSource.load();
      } catch {
        this.#wordsFailed = true;
      }
    }
    return this.#words;
  }

  #route(model: string | undefined): EmbedProvider {
    if (model === undefined || model === this.primary.defaultModel) return this.primary;
    const hash = HASH_MODEL.exec(model);
    if (hash) {
      const dim = Number(hash[1]);
      if (dim < MIN_HASH_DIM || dim > MAX_HASH_DIM)
        throw new BadRequest(`hash models have ${MIN_HASH_DIM} to ${MAX_HASH_DIM} dimensions, not ${dim}`, { model });
      const p = this.#hash.get(dim) ?? new HashProvider(dim);
      this.#hash.set(dim, p);
      return p;
    }
    if (this.wordsModels().includes(model)) {
      if (this.primary.name === "words") return this.primary;
      try {
        this.#words ??= this.wordsSource.load();
      } catch (err) {
        throw new BadRequest(
          `model "${model}" needs the words table, which cannot be read: run \`bun install\` or \`bun scripts/build-words.ts\``,
          { model },
          { cause: err },
        );
      }
      return this.#words;
    }
    // An offline provider serves nothing else: say everything that is served.
    if (this.primary.name === "hash" || this.primary.name === "words") {
      const served = [`hash-<${MIN_HASH_DIM}..${MAX_HASH_DIM}>`, ...this.wordsModels()].map((m) => `"${m}"`).join(", ");
      throw new BadRequest(`no embedding model "${model}" here: the offline models are ${served}`, { provider: this.primary.name, model });
    }
    return this.primary;
  }

  async embed(texts: readonly string[], model?: string, signal?: AbortSignal): Promise<number[][]> {
    const p = this.#route(model);
    // The routed provider gets no model when it is its own default, as the provider alone would.
    return p.embed(texts, model === p.defaultModel ? undefined : model, signal);
  }
}
