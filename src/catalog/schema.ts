// A dataset's schema: ordered fields, a fingerprint that identifies the (name, type) sequence, and
// the difference between two schemas for conflict reports.
import { createHash } from "node:crypto";

export interface Field {
  name: string;
  type: string;
  nullable: boolean;
}

/**
 * SHA-256 over the ordered (name, type) pairs. Each part is length-prefixed so no choice of names
 * can make two different schemas hash the same input; nullability is deliberately left out.
 */
export function fingerprint(fields: readonly Pick<Field, "name" | "type">[]): string {
  const h = createHash("sha256");
  h.update(`schema/v1;${fields.length};`);
  for (const f of fields) {
    h.update(`${Buffer.byteLength(f.name)}:${f.name};${Buffer.byteLength(f.type)}:${f.type};`);
  }
  return h.digest("hex");
}

export interface SchemaDiff {
  added: { name: string; type: string }[];
  removed: { name: string; type: string }[];
  retyped: { name: string; from: string; to: string }[];
  /** True when the same (name, type) pairs appear in a different order. */
  reordered: boolean;
}

export function diffSchemas(from: readonly Field[], to: readonly Field[]): SchemaDiff {
  const before = new Map(from.map((f) => [f.name, f.type]));
  const after = new Map(to.map((f) => [f.name, f.type]));
  const added = to.filter((f) => !before.has(f.name)).map(({ name, type }) => ({ name, type }));
  const removed = from.filter((f) => !after.has(f.name)).map(({ name, type }) => ({ name, type }));
  const retyped = to.filter((f) => before.has(f.name) && before.get(f.name) !== f.type).map((f) => ({ name: f.name, from: before.get(f.name)!, to: f.type }));
  const common = (fields: readonly Field[], other: Map<string, string>) => fields.filter((f) => other.has(f.name)).map((f) => f.name);
  const reordered = common(from, after).join("\u0000") !== common(to, before).join("\u0000");
  return { added, removed, retyped, reordered };
}
