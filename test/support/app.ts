// Builds a whole Lakehouse (all modules, real storage) for tests, from config overrides. Talk to it
// with ./http.ts. Benchmarks import this on purpose (scripts/bench/embed.ts): keep it free of
// bun:test.
import * as v from "valibot";
import { createLakehouse, type Lakehouse } from "../../src/app.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { silentLogger, type Logger } from "../../src/log.ts";
import { tempDir } from "./tmp.ts";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  const base = { server: { access_log: false, check_results: true }, storage: { fs: { root: tempDir("lh-data-") } } };
  const merged = merge(base, overrides as Record<string, unknown>);
  return v.parse(configSchema, merged);
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, val] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      cur && val && typeof cur === "object" && typeof val === "object" && !Array.isArray(val)
        ? merge(cur as Record<string, unknown>, val as Record<string, unknown>)
        : val;
  }
  return out;
}

export async function testLakehouse(overrides: DeepPartial<Config> = {}, log: Logger = silentLogger): Promise<Lakehouse & { config: Config }> {
  const config = testConfig(overrides);
  return { ...(await createLakehouse(config, log)), config };
}
