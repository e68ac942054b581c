import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { tempDir } from "../support/tmp.ts";

test("defaults: offline hash provider, 384 dimensions, new indexes pick their model, cache on", () => {
  const { config } = loadConfig({ defaultPath: join(tempDir(), "absent.toml") });
  expect(config.embed).toEqual({
    provider: "hash",
    index_model: "auto",
    max_batch: 256,
    timeout_ms: 30_000,
    cache_size: 10_000,
    hash: { dimension: 384 },
    words: { table: "" },
    ollama: { url: "http://127.0.0.1:11434", model: "nomic-embed-text" },
    openai: { url: "https://api.openai.com/v1", model: "text-embedding-3-small", api_key: "" },
  });
});

test("the OpenAI key may live in the secrets file or the environment", () => {
  const dir = tempDir();
  const configPath = join(dir, "lakehouse.toml");
  writeFileSync(configPath, '[embed]\nprovider = "openai"\n');
  writeFileSync(join(dir, "lakehouse.secrets.toml"), '[embed.openai]\napi_key = "sk-from-file"\n');
  expect(loadConfig({ argv: ["--config", configPath] }).config.embed.openai.api_key).toBe("sk-from-file");
  const fromEnv = loadConfig({ argv: ["--config", configPath], env: { LH_EMBED_OPENAI_API_KEY: "sk-from-env", LH_EMBED_CACHE_SIZE: "0" } });
  expect(fromEnv.config.embed.openai.api_key).toBe("sk-from-env");
  expect(fromEnv.config.embed.cache_size).toBe(0);
});

test("an unknown provider or a non-http URL stops start-up", () => {
  expect(() => loadConfig({ defaultPath: join(tempDir(), "absent.toml"), env: { LH_EMBED_PROVIDER: "cohere" } })).toThrow(ConfigError);
  expect(() => loadConfig({ defaultPath: join(tempDir(), "absent.toml"), env: { LH_EMBED_OLLAMA_URL: "file:///etc/passwd" } })).toThrow(/embed\.ollama\.url/);
});
