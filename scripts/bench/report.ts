// Benchmarks write their figures into docs/benchmarks.md, each into its own section between
// markers, so running one benchmark never clobbers another's results.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const FILE = join(import.meta.dir, "..", "..", "docs", "benchmarks.md");
const HEADER = "# Benchmarks\n\nFigures measured on the project's 2-core, 24 GiB machines. Each section names the command that reproduces it.\n";

export function writeSection(name: string, markdown: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, "utf8") : HEADER;
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const next = i !== -1 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function machineLine(): string {
  return `Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, ${new Date().toISOString().slice(0, 10)}`;
}

/** A progress line on stderr, stamped with the time of day (stdout is kept for figures). */
export const log = (...x: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...x);

/** A loopback port free at this moment (a child server is then told to bind it). */
export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
