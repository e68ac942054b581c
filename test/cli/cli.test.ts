// The command line from source, as real child processes (`bun src/main.ts <command>`): help,
// version, check-config (valid, invalid, secrets redacted), and usage errors (exit 2, usage on
// stderr, nothing started). The same dispatcher runs in the single binary (test/binary/).
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { tempDir } from "../support/tmp.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "src", "main.ts");

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in an empty directory (no lakehouse.toml to pick up) with only `env` set besides PATH and HOME. */
async function run(args: string[], env: Record<string, string> = {}, cmd: string[] = ["bun", MAIN]): Promise<Ran> {
  const proc = Bun.spawn([...cmd, ...args], {
    cwd: tempDir("lh-cli-"),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

test("--help, -h and help print the usage on stdout and exit 0", async () => {
  for (const args of [["--help"], ["-h"], ["help"], ["serve", "--help"]]) {
    const out = await run(args);
    expect(out.code).toBe(0);
    expect(out.stdout).toStartWith("Usage: lakehouse [command] [options]");
    for (const command of ["serve", "check-config", "version", "mcp"]) expect(out.stdout).toContain(`  ${command}`);
    expect(out.stderr).toBe("");
  }
});

test("version names lakehouse, Bun, DuckDB and hnswlib with its build flags, and runs the vector kernels", async () => {
  const out = await run(["version"]);
  expect(out.code).toBe(0);
  const lines = out.stdout.trimEnd().split("\n");
  expect(lines[0]).toBe(`lakehouse ${pkg.version}`);
  expect(lines[1]).toStartWith(`bun ${Bun.version} (`);
  expect(lines[2]).toMatch(/^duckdb v\d+\.\d+\.\d+/);
  expect(lines[3]).toMatch(/^hnswlib-node 3\.0\.0 \(CXXFLAGS "[^"]*"\)$/);
  expect(lines).toContain("vector kernels: wasm simd128");
  expect(lines.at(-1)).toBe(`build: from source (${process.platform}-${process.arch})`);

  const json = JSON.parse((await run(["version", "--json"])).stdout);
  expect(json).toMatchObject({
    lakehouse: pkg.version,
    bun: Bun.version,
    bun_revision: Bun.revision,
    hnswlib_node: "3.0.0",
    vector_kernels: "wasm simd128",
    build: null,
  });
  expect(json.duckdb).toBe(lines[2]!.slice("duckdb ".length));
});

test("check-config prints the effective configuration as TOML: file, secrets file and environment merged, secrets redacted", async () => {
  const dir = tempDir("lh-cli-conf-");
  const config = join(dir, "lakehouse.toml");
  const secrets = join(dir, "other.secrets.toml");
  writeFileSync(
    config,
    '[server]\nbind = "127.0.0.1:4555"\n\n[storage.fs]\nroot = "/srv/lake"\n\n[embed.openai]\nurl = "https://svc:url-pass-7@llm.example/v1"\n',
  );
  writeFileSync(secrets, '[auth]\ntoken = "file-token-5150"\n\n[storage.s3]\nsecret_access_key = "s3-secret-8080"\n');
  const out = await run(["check-config", "--config", config, `--secrets=${secrets}`], { LH_SQL_MAX_ROWS: "77", LH_EMBED_OPENAI_API_KEY: "env-key-4242" });
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  expect(out.stdout).toContain(`config file ${config}`);
  const effective = Bun.TOML.parse(out.stdout) as Record<string, Record<string, any>>;
  expect(effective.server!.bind).toBe("127.0.0.1:4555");
  expect(effective.storage!.fs.root).toBe("/srv/lake");
  expect(effective.sql!.max_rows).toBe(77);
  expect(effective.storage!.prefix_caps).toEqual({ "_vectors/": 4 * 1024 ** 3 });
  expect(effective.auth!.token).toBe("[redacted]");
  expect(effective.storage!.s3.secret_access_key).toBe("[redacted]");
  expect(effective.embed!.openai.api_key).toBe("[redacted]");
  // An unset secret stays visibly empty.
  expect(effective.storage!.s3.access_key_id).toBe("");
  expect(effective.embed!.openai.url).toBe("https://svc:[redacted]@llm.example/v1");
  for (const secret of ["file-token-5150", "s3-secret-8080", "env-key-4242", "url-pass-7"]) expect(out.stdout).not.toContain(secret);
});

test("check-config with no file prints the defaults and says so", async () => {
  const out = await run(["check-config"]);
  expect(out.code).toBe(0);
  expect(out.stdout).toContain("defaults (no lakehouse.toml)");
  const effective = Bun.TOML.parse(out.stdout) as Record<string, Record<string, unknown>>;
  expect(effective.server!.bind).toBe("127.0.0.1:3110");
  expect(effective.auth!.token).toBe("");
});

test("check-config exits 2 naming the key and where it came from; a secret next to the error is not printed", async () => {
  const dir = tempDir("lh-cli-conf-");
  const config = join(dir, "lakehouse.toml");
  writeFileSync(config, '[storage]\nbakend = "fs"\n');
  const bad = await run(["check-config", "--config", config], { LH_AUTH_TOKEN: "tok-9911" });
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe("");
  expect(bad.stderr).toContain('unknown key "storage.bakend"');
  expect(bad.stderr).toContain(config);
  expect(bad.stderr).not.toContain("tok-9911");

  const env = await run(["check-config"], { LH_SQL_MAX_ROWS: "many" });
  expect(env.code).toBe(2);
  expect(env.stderr).toContain("LH_SQL_MAX_ROWS");

  const missing = await run(["check-config", "--config", join(dir, "nope.toml")]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("cannot read config file");
});

test("an unknown command or flag prints the usage on stderr and exits 2 without starting anything", async () => {
  const cases: [string[], string][] = [
    [["bogus"], 'unknown command "bogus"'],
    [["--bogus"], "unknown option --bogus for serve"],
    [["serve", "--port", "1"], "unknown option --port for serve"],
    [["serve", "extra"], 'unexpected argument "extra" for serve'],
    [["check-config", "--json"], "unknown option --json for check-config"],
    [["version", "--short"], "unknown option --short for version"],
    [["--config"], "--config needs a path"],
    [["serve", "--config", "--secrets", "x"], "--config needs a path"],
  ];
  for (const [args, message] of cases) {
    const out = await run(args, { LH_SERVER_BIND: "127.0.0.1:0" });
    expect({ args, code: out.code }).toEqual({ args, code: 2 });
    expect(out.stderr).toStartWith(`lakehouse: ${message}\n`);
    expect(out.stderr).toContain("Usage: lakehouse [command] [options]");
    expect(out.stdout).toBe("");
  }
});

test("`bun run start` takes the same commands", async () => {
  const out = await run(["version"], {}, ["bun", "run", "--cwd", ROOT, "start"]);
  expect(out.code).toBe(0);
  expect(out.stdout).toContain(`lakehouse ${pkg.version}\n`);
});

test("mcp hands its arguments to the MCP bridge (src/mcp/stdio.ts): its help, its usage errors", async () => {
  const help = await run(["mcp", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith("usage: lakehouse mcp");
  const bad = await run(["mcp", "--frob"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--frob");
});

test("check-config refuses what serve would refuse: a bind other machines reach, with no token", async () => {
  const open = await run(["check-config"], { LH_SERVER_BIND: "0.0.0.0:3110" });
  expect(open.code).toBe(2);
  expect(open.stderr).toContain("auth.token is empty");
  const withToken = await run(["check-config"], { LH_SERVER_BIND: "0.0.0.0:3110", LH_AUTH_TOKEN: "t" });
  expect(withToken.code).toBe(0);
});
