// Command-line parsing and the helper command, in-process.
import { expect, test } from "bun:test";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { redact, toToml } from "../../src/cli/check-config.ts";
import { workerCommand, workerEnv } from "../../src/lib/worker-process.ts";

test("no command is serve; flags take `--flag value` or `--flag=value`", () => {
  expect(parseArgs([])).toEqual({ command: "serve" });
  expect(parseArgs(["--config", "a.toml", "--secrets=s.toml"])).toEqual({ command: "serve", config: "a.toml", secrets: "s.toml" });
  expect(parseArgs(["serve", "--config=a.toml"])).toEqual({ command: "serve", config: "a.toml" });
  expect(parseArgs(["check-config", "--config", "b.toml"])).toEqual({ command: "check-config", config: "b.toml" });
  expect(parseArgs(["version", "--json"])).toEqual({ command: "version", json: true });
  expect(() => parseArgs(["--config="])).toThrow(UsageError);
  expect(() => parseArgs(["serve", "serve"])).toThrow('unexpected argument "serve" for serve');
});

test("mcp and the helper commands keep their own arguments untouched", () => {
  expect(parseArgs(["mcp", "--url", "http://127.0.0.1:3110", "--token", "t"])).toEqual({
    command: "mcp",
    args: ["--url", "http://127.0.0.1:3110", "--token", "t"],
  });
  expect(parseArgs(["__sql-worker", "--lakehouse-worker=sql", '{"a":1}'])).toEqual({
    command: "worker",
    worker: "__sql-worker",
    args: ["--lakehouse-worker=sql", '{"a":1}'],
  });
  expect(() => parseArgs(["__other-worker"])).toThrow('unknown command "__other-worker"');
});

test("from source a helper is Bun running src/main.ts with the helper's command, then its role flag and payload", () => {
  expect(Bun.isStandaloneExecutable).toBe(false);
  const argv = workerCommand("convert-warm", '{"x":1}');
  expect(argv).toEqual([process.execPath, expect.stringMatching(/\/src\/main\.ts$/), "__convert-warm-worker", "--lakehouse-worker=convert-warm", '{"x":1}']);
  expect(parseArgs(argv.slice(2))).toMatchObject({ command: "worker", worker: "__convert-warm-worker" });
  expect(workerCommand("sql", "p").slice(2, 4)).toEqual(["__sql-worker", "--lakehouse-worker=sql"]);
  expect(workerCommand("convert", "p").slice(2, 4)).toEqual(["__convert-worker", "--lakehouse-worker=convert"]);
});

test("a helper's environment carries the native cache location and nothing of the server's", () => {
  const saved = { ...process.env };
  try {
    process.env.LAKEHOUSE_NATIVE_CACHE = "/cache/native";
    process.env.LH_AUTH_TOKEN = "never-passed";
    const env = workerEnv({ UV_THREADPOOL_SIZE: "4" });
    expect(env.LAKEHOUSE_NATIVE_CACHE).toBe("/cache/native");
    expect(env.UV_THREADPOOL_SIZE).toBe("4");
    expect(Object.keys(env).filter((k) => k.startsWith("LH_"))).toEqual([]);
  } finally {
    for (const k of ["LAKEHOUSE_NATIVE_CACHE", "LH_AUTH_TOKEN"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});

test("the TOML rendering round-trips through a TOML parser, odd keys quoted", () => {
  const tree = { a: { b: 1, "c/d": 'x"y', list: ["p", "q"], on: true, sub: { z: 2.5 }, empty: {} }, top: { k: "v" } };
  expect(Bun.TOML.parse(toToml(tree))).toEqual(tree);
  expect(redact({ auth: { token: "t" }, embed: { openai: { url: "http://u:p@h/x", api_key: "" } } })).toEqual({
    auth: { token: "[redacted]" },
    embed: { openai: { url: "http://u:[redacted]@h/x", api_key: "" } },
  });
});
