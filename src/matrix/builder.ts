// Builds or rebuilds one corpus: reads the dataset in id order through SQL, embeds only rows
// whose text is new or changed, rewrites metadata of rows whose metadata alone changed, removes
// rows that disappeared, then calibrates the corpus and marks it ready. Content hashes are
// checkpointed as it goes, so a build interrupted by a crash resumes without re-embedding.
import type { Logger } from "../log.ts";
import { backgroundOf, probeTexts, unit } from "./calibration.ts";
import type { CorpusRecord, CorpusStore } from "./corpus-store.ts";
import type { EmbedPort, IdValue, RowSource, VectorItem, VectorPort } from "../ports.ts";
import { type Field, fieldsKey, mixFields, renderWithSpans, splitFields } from "./fields.ts";
import { lexicalBackground } from "./lexical/calibrate.ts";
import type { LexicalIndexes } from "./lexical/indexes.ts";
import { classifyRow, contentHash, pickMetadata, renderText, type Row, type RowHashes, stableJson, textColumns } from "./rows.ts";
import { FIELDS_KEY, fieldedText, type Spans, TEXT_KEY } from "./stored.ts";

export { TEXT_KEY } from "./stored.ts";
const CALIBRATION_DOCS = 64;
const CALIBRATION_PROBES = 32;

export interface BuildDeps {
  rows: RowSource;
  vectors: VectorPort;
  embed: EmbedPort;
  corpora: CorpusStore;
  /** The corpora's BM25 indexes, updated with the rows (lexical/indexes.ts). */
  lexical: LexicalIndexes;
  /** Rows embedded and upserted at a time. */
  batch: number;
  /** Rows read from the dataset per SQL page. */
  readPage: number;
  /** How often a build makes its progress durable (lexical delta, row hashes, record). */
  checkpointMs: number;
  log: Logger;
}

/** The lexical index's field weights: one per field of a fielded corpus, [1] for a corpus built before fields. */
export function lexicalWeights(rec: Pick<CorpusRecord, "fields">): number[] {
  return rec.fields?.map((f) => f.weight) ?? [1];
}

/** One row as a corpus document: its rendered text, what BM25 and the embedder read (the fields joined, or the text), the fields' spans. */
interface Doc {
  id: string;
  text: string;
  lexical: string;
  spans?: Spans;
  metadata: Record<string, unknown>;
}

function rowDoc(rec: CorpusRecord, id: string, row: Row): Omit<Doc, "metadata"> {
  if (!rec.fields) {
    const text = renderText(rec.text, row);
    return { id, text, lexical: text };
  }
  const { text, spans } = renderWithSpans(rec.text, rec.fields, row);
  return { id, text, lexical: fieldedText(text, spans), spans };
}

/** A fielded corpus's text hash covers its weights and spans too: other weights make other vectors. */
function textHash(rec: CorpusRecord, doc: Omit<Doc, "metadata">): string {
  return contentHash(rec.fields ? `${fieldsKey(rec.fields)}\u001e${JSON.stringify(doc.spans)}\u001e${doc.text}` : doc.text);
}

/** What is stored with the vector: the row's metadata columns, its text, a fielded corpus's spans. */
function storedMetadata(doc: Doc): Record<string, unknown> {
  return doc.spans ? { ...doc.metadata, [TEXT_KEY]: doc.text, [FIELDS_KEY]: doc.spans } : { ...doc.metadata, [TEXT_KEY]: doc.text };
}

export function readColumns(rec: Pick<CorpusRecord, "id_column" | "text" | "metadata">): string[] {
  return [...new Set([rec.id_column, ...textColumns(rec.text), ...rec.metadata])];
}

/** Runs the build to the end; mutates `rec` as progress is made. Returns false when cancelled. */
export async function runBuild(deps: BuildDeps, rec: CorpusRecord, cancelled: () => boolean): Promise<boolean> {
  const info = await deps.rows.describe(rec.dataset);
  rec.rows_total = info.rows;
  rec.rows_done = 0;
  rec.skipped_empty = 0;
  rec.dataset_version = info.version;
  const stats = { embedded: 0, metadata_updated: 0, unchanged: 0, removed: 0 };
  const hashes = await deps.corpora.loadHashes(rec.name);
  const seen = new Set<string>();
  const sample: { id: string; text: string }[] = [];
  const columns = readColumns(rec);
  let lastCheckpoint = Date.now();
  await deps.lexical.open(rec.name, rec.dim !== null, lexicalWeights(rec));
  let lexicalChanged = false;

  // The index is the truth about its dimension: a record checkpointed before the first upsert
  // does not know it yet when a build resumes.
  if (rec.dim === null && deps.vectors.hasIndex(rec.index)) rec.dim = deps.vectors.stats(rec.index).dim;
  let next: Promise<Row[]> | undefined;
  const stop = async () => {
    // A page read still in flight must not outlive the build (the SQL engine may close next).
    await next?.catch(() => {});
    // The lexical delta first: the hashes then name only rows it holds.
    await deps.lexical.checkpoint(rec.name);
    await deps.corpora.saveHashes(rec.name, hashes);
    await deps.corpora.save(rec);
    return false;
  };
  // Reads are large pages (each page query scans the dataset's columns once), fetched one ahead:
  // DuckDB reads on its own threads while this one embeds. Embedding and upserts go in
  // build_batch chunks so progress moves and cancellation is prompt.
  const fetchPage = (from: IdValue | null) => {
    const p = deps.rows.page(rec.dataset, columns, rec.id_column, from, deps.readPage);
    p.catch(() => {}); // awaited below or by stop(); this only keeps it from counting as unhandled
    return p;
  };
  next = fetchPage(null);
  for (;;) {
    if (cancelled()) return stop();
    const page = await next;
    if (page.length === 0) break;
    next = fetchPage(page[page.length - 1]![rec.id_column] as IdValue);
    for (let start = 0; start < page.length; start += deps.batch) {
      if (cancelled()) return stop();
      if (await processChunk(deps, rec, page.slice(start, start + deps.batch), { hashes, seen, sample, stats })) lexicalChanged = true;
      if (Date.now() - lastCheckpoint >= deps.checkpointMs) {
        await deps.lexical.checkpoint(rec.name);
        await deps.corpora.saveHashes(rec.name, hashes);
        await deps.corpora.save(rec);
        lastCheckpoint = Date.now();
      }
    }
  }
  if (cancelled()) return stop();

  const gone = [...hashes.keys()].filter((id) => !seen.has(id));
  if (gone.length > 0 && rec.dim !== null && deps.vectors.hasIndex(rec.index)) {
    for (let i = 0; i < gone.length; i += deps.batch) await deps.vectors.remove(rec.index, gone.slice(i, i + deps.batch));
  }
  deps.lexical.remove(rec.name, gone);
  for (const id of gone) hashes.delete(id);
  stats.removed = gone.length;
  if (stats.embedded > 0 || !rec.calibration) {
    const calibration = await calibrate(deps, rec, sample);
    if (calibration) rec.calibration = calibration;
  }
  // Sealed (compacted into one base segment) before the hashes stop naming the removed rows.
  if (lexicalChanged || gone.length > 0 || !rec.lexical_calibration) {
    await deps.lexical.seal(rec.name);
    const index = await deps.lexical.get(rec.name);
    const background = index && lexicalBackground(index, sample);
    if (background) rec.lexical_calibration = background;
  }
  await deps.corpora.saveHashes(rec.name, hashes);
  rec.last_build = stats;
  return true;
}

interface BuildState {
  hashes: Map<string, RowHashes>;
  seen: Set<string>;
  sample: { id: string; text: string }[];
  stats: CorpusRecord["last_build"];
}

/** Returns whether the lexical index changed. */
async function processChunk(deps: BuildDeps, rec: CorpusRecord, rows: readonly Row[], st: BuildState): Promise<boolean> {
  // The last row of an id wins, as a batch may not name an id twice.
  const byId = new Map<string, Doc & { hashes: RowHashes }>();
  for (const row of rows) {
    const doc = rowDoc(rec, String(row[rec.id_column]), row);
    if (doc.text === "") {
      rec.skipped_empty++;
      continue;
    }
    const metadata = pickMetadata(rec.metadata, row);
    byId.set(doc.id, { ...doc, metadata, hashes: [textHash(rec, doc), contentHash(stableJson(metadata))] });
  }
  const toEmbed: Doc[] = [];
  const metaOnly: Doc[] = [];
  for (const [id, r] of byId) {
    st.seen.add(id);
    if (st.sample.length < CALIBRATION_DOCS) st.sample.push({ id, text: r.lexical });
    const change = classifyRow(st.hashes.get(id), r.hashes);
    if (change === "new" || change === "text_changed") toEmbed.push(r);
    else if (change === "metadata_changed") metaOnly.push(r);
    else st.stats.unchanged++;
  }
  await embedAndUpsert(deps, rec, toEmbed);
  await rewriteMetadata(deps, rec, metaOnly);
  // The same text the vectors were made from. A row whose text did not change keeps its terms,
  // unless the lexical index lacks it (its segments could not be loaded): a build heals that.
  const embedded = new Set(toEmbed.map((r) => r.id));
  const lexical = toEmbed.map((r) => ({ id: r.id, text: r.lexical }));
  for (const [id, r] of byId) if (!embedded.has(id) && !deps.lexical.has(rec.name, id)) lexical.push({ id, text: r.lexical });
  deps.lexical.upsert(rec.name, lexical);
  for (const r of [...toEmbed, ...metaOnly]) st.hashes.set(r.id, byId.get(r.id)!.hashes);
  st.stats.embedded += toEmbed.length;
  st.stats.metadata_updated += metaOnly.length;
  rec.rows_done += rows.length;
  return lexical.length > 0;
}

/** Vectors of a corpus's texts: each text embedded whole, or a fielded text as the weighted mix of its fields' vectors. */
export async function embedTexts(
  embed: BuildDeps["embed"],
  rec: Pick<CorpusRecord, "fields" | "model">,
  texts: readonly string[],
): Promise<{ vectors: readonly (readonly number[])[]; dimension: number }> {
  if (!rec.fields) return embed.embed(texts, rec.model);
  const fields: readonly Field[] = rec.fields;
  const split = texts.map((t) => splitFields(t, fields.length));
  // Each distinct value once: short fields (a skill, a city, a shift) repeat across a batch.
  const distinct = [...new Set(split.flat().filter((v) => v !== ""))];
  const byValue = new Map<string, readonly number[]>();
  let dimension = 0;
  for (let i = 0; i < distinct.length; i += embed.maxBatch) {
    const part = distinct.slice(i, i + embed.maxBatch);
    const out = await embed.embed(part, rec.model);
    dimension = out.dimension;
    for (const [j, v] of part.entries()) byValue.set(v, out.vectors[j]!);
  }
  return { vectors: split.map((values) => mixFields(values, fields, (v) => byValue.get(v)!)), dimension };
}

async function embedAndUpsert(deps: BuildDeps, rec: CorpusRecord, rows: Doc[]): Promise<void> {
  for (let i = 0; i < rows.length; i += deps.embed.maxBatch) {
    const chunk = rows.slice(i, i + deps.embed.maxBatch);
    const { vectors, dimension } = await embedTexts(
      deps.embed,
      rec,
      chunk.map((r) => r.lexical),
    );
    if (rec.dim === null) rec.dim = dimension;
    if (!deps.vectors.hasIndex(rec.index)) await deps.vectors.createIndex(rec.index, rec.dim);
    const items: VectorItem[] = chunk.map((r, j) => ({ id: r.id, vector: vectors[j]!, metadata: storedMetadata(r) }));
    await deps.vectors.upsert(rec.index, items);
  }
}

async function rewriteMetadata(deps: BuildDeps, rec: CorpusRecord, rows: Doc[]): Promise<void> {
  if (rows.length === 0) return;
  const items: VectorItem[] = [];
  const missing: typeof rows = [];
  for (const r of rows) {
    const stored = await deps.vectors.get(rec.index, r.id);
    if (stored) items.push({ id: r.id, vector: stored.vector, metadata: storedMetadata(r) });
    else missing.push(r);
  }
  if (items.length > 0) await deps.vectors.upsert(rec.index, items);
  await embedAndUpsert(deps, rec, missing);
}

async function calibrate(deps: BuildDeps, rec: CorpusRecord, sample: { id: string; text: string }[]) {
  if (rec.dim === null || !deps.vectors.hasIndex(rec.index)) return null;
  const docs: { vector: readonly number[]; text: string }[] = [];
  for (const s of sample) {
    const item = await deps.vectors.get(rec.index, s.id);
    if (item) docs.push({ vector: unit(item.vector), text: s.text });
  }
  const probes = probeTexts(
    docs.map((d) => d.text),
    CALIBRATION_PROBES,
  );
  if (probes.length === 0) return null;
  const { vectors } = await deps.embed.embed(
    probes.map((p) => p.text),
    rec.model,
  );
  return backgroundOf(
    probes.map((p, i) => ({ vector: vectors[i]!, source: p.source })),
    docs.map((d) => d.vector),
  );
}
