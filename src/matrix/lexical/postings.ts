// One term's postings, the lexical index's unit of storage: the documents (ordinals, ascending)
// holding the term and how often, as typed arrays grown by doubling; and the flat image a whole
// index is stored and loaded as (segments.ts).

/** A term's frequency in one document is capped here (Uint16); BM25 saturates long before. */
export const TF_MAX = 65_535;

export class Postings {
  docs: Int32Array<ArrayBufferLike> = new Int32Array(4);
  tfs: Uint16Array<ArrayBufferLike> = new Uint16Array(4);
  n = 0;
  push(doc: number, tf: number): void {
    if (this.n === this.docs.length) {
      const docs = new Int32Array(this.n * 2);
      docs.set(this.docs);
      this.docs = docs;
      const tfs = new Uint16Array(this.n * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.docs[this.n] = doc;
    this.tfs[this.n] = Math.min(tf, TF_MAX);
    this.n++;
  }
}

/** What a stored index holds: enough to rebuild it exactly without the documents' text. */
export interface IndexImage {
  ids: string[];
  /** Fields of a fielded index (absent: 1). */
  fields?: number;
  /** Term counts of each document, field after field (ids × fields). */
  lens: Uint32Array;
  terms: string[];
  /** Per term: how many postings, then all postings' documents and frequencies concatenated. */
  counts: Uint32Array;
  docs: Int32Array;
  tfs: Uint16Array;
}
