// Canonical JSON (object keys sorted, recursively) and its SHA-256: the same value always gives the
// same text and hash, whatever order a client wrote its keys in. Verdict events carry the hashes of
// a review's input and output; distillation writes canonical NDJSON so that re-running it with the
// same inputs produces the same bytes (and the dataset answers "unchanged").

export function canonical(x: unknown): string {
  if (x === null || typeof x !== "object") return JSON.stringify(x) ?? "null";
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  const o = x as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
}

export function sha256(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}
