// Canonical JSON (object keys sorted, recursively; undefined members left out) and its SHA-256: the
// same value always gives the same text and hash, whatever order a client wrote its keys in. The
// pathway's content hashes and audit chain, the observer's verdict hashes and its distillation's
// NDJSON (re-run with the same inputs, the same bytes: "unchanged") all rest on it. Hashes made with
// it are stored, so it must never change. (The matrix's row hashes use their own stableJson, which
// keeps undefined members as null: also stored, so also left as it is.)

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
