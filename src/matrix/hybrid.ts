// Hybrid retrieval within one corpus, pure: the vector list and the lexical (BM25) list are
// merged into one list of calibrated scores, which the fusion across corpora then takes as it
// is (fusion.ts with a unit background). Both parts are calibrated the way corpora are — each
// score's distance from its corpus's background in standard deviations — and combined as
//
//   hybrid = (w_v · z_vector + w_l · z_lexical) / sqrt(w_v² + w_l²)
//
// which is again a standard score when the two parts are independent under the background, so
// the gate's thresholds and the playbook boosts keep their units. A document found by one part
// only is scored exactly by the other (search.ts computes it), never left at an assumed zero:
// the labelled set (docs/matrix.md) ranks it so.
import type { Calibration, CorpusHit } from "./fusion.ts";
import { selfCalibration } from "./fusion.ts";

export type SearchMode = "hybrid" | "vector" | "lexical";

export interface Part {
  /** 1-based rank in that part's own list; null when the document was scored only to complete the other part's hit. */
  rank: number | null;
  raw: number;
  calibrated: number;
}

export interface HybridParts {
  vector: Part;
  lexical: Part;
}

export interface HybridInput {
  vector: readonly CorpusHit[];
  lexical: readonly CorpusHit[];
  /** Exact raw scores of documents missing from the other part's list. */
  vectorOf: ReadonlyMap<string, number>;
  lexicalOf: ReadonlyMap<string, number>;
  vectorCalibration?: Calibration;
  lexicalCalibration?: Calibration;
  /** Weight of the lexical part against the vector part's 1. */
  lexicalWeight: number;
}

const z = (raw: number, c: Calibration) => (raw - c.mean) / Math.max(c.std, 1e-6);

/** One list, best first (ties by id), each hit's score the hybrid standard score and its parts attached. */
export function combineHybrid(input: HybridInput): (CorpusHit & { parts: HybridParts })[] {
  const calV = input.vectorCalibration ?? selfCalibration(input.vector.map((h) => h.score));
  const calL = input.lexicalCalibration ?? selfCalibration(input.lexical.map((h) => h.score));
  const wl = input.lexicalWeight;
  const norm = Math.sqrt(1 + wl * wl);
  const byId = new Map<string, { hit: CorpusHit; v?: Part; l?: Part }>();
  for (const [i, hit] of input.vector.entries()) byId.set(hit.id, { hit, v: { rank: i + 1, raw: hit.score, calibrated: z(hit.score, calV) } });
  input.lexical.forEach((hit, i) => {
    const part = { rank: i + 1, raw: hit.score, calibrated: z(hit.score, calL) };
    const cur = byId.get(hit.id);
    if (cur) cur.l = part;
    else byId.set(hit.id, { hit, l: part });
  });
  const out: (CorpusHit & { parts: HybridParts })[] = [];
  for (const [id, e] of byId) {
    const vRaw = e.v?.raw ?? input.vectorOf.get(id);
    const lRaw = e.l?.raw ?? input.lexicalOf.get(id) ?? 0;
    // A document the vector index no longer holds (removed meanwhile) is not a result.
    if (vRaw === undefined) continue;
    const v = e.v ?? { rank: null, raw: vRaw, calibrated: z(vRaw, calV) };
    const l = e.l ?? { rank: null, raw: lRaw, calibrated: z(lRaw, calL) };
    out.push({ ...e.hit, score: (v.calibrated + wl * l.calibrated) / norm, parts: { vector: v, lexical: l } });
  }
  return out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
