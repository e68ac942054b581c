import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, envName, loadConfig } from "../../src/config/load.ts";
import { tempDir } from "../support/tmp.ts";

function configFile(text: string, name = "lakehouse.toml"): string {
  const path = join(tempDir("lh-config-"), name);
  writeFileSync(path, text);
  return path;
}

const missingDefault = () => join(tempDir("lh-none-"), "lakehouse.toml");

describe("loadConfig", () => {
  test("every key has a default", () => {
    const { config, file } = loadConfig({ defaultPath: missingDefault() });
    expect(file).toBeNull();
    expect(config.server.bind).toBe("127.0.0.1:3110");
    expect(config.storage.backend).toBe("fs");
    expect(config.storage.fs.root).toBe("./data");
    expect(config.storage.max_object_bytes).toBe(256 * 1024 * 1024);
    expect(config.storage.prefix_caps["_vectors/"]).toBe(4 * 1024 ** 3);
    expect(config.auth).toEqual({ token: "", allowed_ips: [] });
  });

  test("reads the file given by --config", () => {
    const path = configFile('[server]\nbind = "127.0.0.1:4000"\n[storage.fs]\nroot = "/srv/lake"\n');
    const { config, file } = loadConfig({ argv: ["--config", path] });
    expect(file).toBe(path);
    expect(config.server.bind).toBe("127.0.0.1:4000");
    expect(config.storage.fs.root).toBe("/srv/lake");
    expect(config.server.max_json_bytes).toBe(1024 * 1024);
  });

  test("env overrides the file, with types taken from the key", () => {
    const path = configFile('[server]\nbind = "127.0.0.1:4000"\n');
    const { config } = loadConfig({
      argv: ["--config", path],
      env: {
        LH_SERVER_BIND: "127.0.0.1:5000",
        LH_SERVER_ACCESS_LOG: "false",
        LH_STORAGE_PUT_CONCURRENCY: "3",
        LH_AUTH_ALLOWED_IPS: "10.0.0.0/8, ::1",
        LH_STORAGE_S3_ACCESS_KEY_ID: "AKIA",
        LH_STORAGE_PREFIX_CAPS: "_vectors/=100,datasets/=200",
        PATH: "/usr/bin",
      },
    });
    expect(config.server.bind).toBe("127.0.0.1:5000");
    expect(config.server.access_log).toBe(false);
    expect(config.storage.put_concurrency).toBe(3);
    expect(config.auth.allowed_ips).toEqual(["10.0.0.0/8", "::1"]);
    expect(config.storage.s3.access_key_id).toBe("AKIA");
    expect(config.storage.prefix_caps).toEqual({ "_vectors/": 100, "datasets/": 200 });
  });

  test("env names follow LH_<SECTION>_<KEY>", () => {
    expect(envName("storage.s3.endpoint")).toBe("LH_STORAGE_S3_ENDPOINT");
    expect(envName("auth.token")).toBe("LH_AUTH_TOKEN");
  });

  test("secrets come from a secrets file beside the config, which may hold only secret keys", () => {
    const path = configFile("[server]\naccess_log = false\n");
    writeFileSync(join(path, "..", "lakehouse.secrets.toml"), '[auth]\ntoken = "s3cr3t"\n');
    expect(loadConfig({ argv: ["--config", path] }).config.auth.token).toBe("s3cr3t");

    const secrets = configFile('[server]\nbind = "0.0.0.0:1"\n', "other.toml");
    expect(() => loadConfig({ argv: ["--config", path, "--secrets", secrets] })).toThrow(/"server.bind" is not a secret/);
  });

  const failures: [string, string, Record<string, string>, RegExp][] = [
    ["unknown key", "[server]\nbindd = 'x'\n", {}, /unknown key "server.bindd" in config file .*lakehouse.toml/],
    ["unknown section", "[nope]\nx = 1\n", {}, /unknown key "nope"/],
    ["wrong type", "[storage]\nmax_object_bytes = 'big'\n", {}, /invalid value for "storage.max_object_bytes" in config file/],
    ["invalid value", "[storage]\nbackend = 'gcs'\n", {}, /invalid value for "storage.backend"/],
    ["bad allowlist entry", "[auth]\nallowed_ips = ['10.0.0.0/33']\n", {}, /"auth.allowed_ips.0".*not an IP address or CIDR range/],
    ["bad bind", "[server]\nbind = 'localhost'\n", {}, /invalid value for "server.bind"/],
    ["s3 without bucket", "[storage]\nbackend = 's3'\n", {}, /storage.s3.endpoint and storage.s3.bucket/],
    ["unknown env var", "", { LH_SERVER_PORT: "1" }, /unknown environment variable LH_SERVER_PORT/],
    ["env of wrong type", "", { LH_STORAGE_PUT_CONCURRENCY: "many" }, /LH_STORAGE_PUT_CONCURRENCY: expected a number/],
    ["env invalid value", "", { LH_AUTH_ALLOWED_IPS: "10.0.0.1,bogus" }, /"auth.allowed_ips.1" in environment variable LH_AUTH_ALLOWED_IPS/],
    ["malformed TOML", "[server\n", {}, /is not valid TOML/],
  ];
  for (const [name, toml, env, message] of failures) {
    test(`stops with a message naming the key: ${name}`, () => {
      const path = configFile(toml);
      let err: unknown;
      try {
        loadConfig({ argv: ["--config", path], env });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
    });
  }

  test("a missing --config file is an error, a missing default file is not", () => {
    expect(() => loadConfig({ argv: ["--config", missingDefault()] })).toThrow(ConfigError);
    expect(() => loadConfig({ defaultPath: missingDefault() })).not.toThrow();
  });
});

test("config/lakehouse.example.toml documents only real keys: it loads as is", () => {
  const { config } = loadConfig({ argv: ["--config", `${import.meta.dir}/../../config/lakehouse.example.toml`], env: {} });
  expect(Object.keys(config).sort()).toEqual([
    "auth",
    "catalog",
    "embed",
    "ingest",
    "matrix",
    "observer",
    "pathway",
    "server",
    "sql",
    "storage",
    "vector",
    "workflows",
  ]);
});
