// `bun run build`: the whole product as one executable, dist/lakehouse, for this machine's platform.
// It runs copied alone into an empty directory: no node_modules, no sources. Plain
// `bun build --compile src/main.ts` fails on three things here (measured; engine notes, "Bun's
// compiler"), each fixed by the plugin below:
// 1. @duckdb/node-bindings requires every platform's binding package in a switch and only the
//    host's is installed: the others become a module that throws if it is ever reached.
// 2. duckdb.node links libduckdb.so (70 MB), which Bun does not embed: the library is embedded as a
//    file and loaded before the binding (src/native/libduckdb.ts: copied once to
//    $XDG_CACHE_HOME/lakehouse/native/<sha256>/, or $LAKEHOUSE_NATIVE_CACHE).
// 3. hnswlib-node finds its addon with `require('bindings')('addon')`, a search of the file system
//    at run time: it becomes a static require of build/Release/addon.node, which Bun embeds.
// The helper processes (SQL worker, conversion workers) are the same executable started with a
// command (`lakehouse __sql-worker ...`: src/lib/worker-process.ts).
//
// Usage: bun scripts/build-binary.ts [--outfile PATH]   (default dist/lakehouse)
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { BunPlugin } from "bun";
import { defaultWordsTablePath, WORDS_MODEL, WORDS_TABLE_FILE } from "../src/embed/words-path.ts";

const ROOT = resolve(import.meta.dir, "..");
const HOST = `${process.platform}-${process.arch}`;
const NATIVE_NS = "lakehouse-native";

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** The installed binding package for this machine (glibc; the musl and other builds are not installed here). */
function duckdbPackageDir(): string {
  const dir = join(ROOT, "node_modules", "@duckdb", `node-bindings-${HOST}`);
  if (!existsSync(join(dir, "duckdb.node")) || !existsSync(join(dir, "libduckdb.so"))) {
    throw new Error(`build-binary: ${relative(ROOT, dir)} has no duckdb.node and libduckdb.so (run bun install on a ${HOST} machine)`);
  }
  return dir;
}

function hnswAddon(): string {
  const addon = join(ROOT, "node_modules", "hnswlib-node", "build", "Release", "addon.node");
  if (!existsSync(addon)) throw new Error("build-binary: hnswlib-node's addon is not built (bun install runs scripts/build-native.ts)");
  return addon;
}

/** What `lakehouse version` reports about this build (src/cli/build-info.ts). */
function buildInfo() {
  const stamp = join(ROOT, "node_modules", "hnswlib-node", "build", "lakehouse-flags");
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  const commit = git.exitCode === 0 ? git.stdout.toString().trim() : "unknown";
  return {
    target: HOST,
    bun: Bun.version,
    built_at: new Date().toISOString(),
    commit: dirty.exitCode === 0 && dirty.stdout.toString().trim() !== "" ? `${commit}+dirty` : commit,
    hnswlib_cxxflags: existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "unknown",
  };
}

export function binaryPlugin(): BunPlugin {
  const duckdbDir = duckdbPackageDir();
  const lib = join(duckdbDir, "libduckdb.so");
  const libSha = createHash("sha256").update(readFileSync(lib)).digest("hex");
  const addon = hnswAddon();
  const loader = join(ROOT, "src", "native", "libduckdb.ts");
  const wordsTable = defaultWordsTablePath;
  return {
    name: "lakehouse-binary",
    setup(build) {
      // 1. Other platforms' binding packages: a module that throws if reached (it never is on this
      //    platform: the switch picks the host's).
      build.onResolve({ filter: /^@duckdb\/node-bindings-[^/]+\/duckdb\.node$/ }, (args) => {
        if (args.path.startsWith(`@duckdb/node-bindings-${HOST}/`)) return { path: join(duckdbDir, "duckdb.node") };
        return { path: args.path, namespace: NATIVE_NS };
      });
      build.onLoad({ filter: /^@duckdb\//, namespace: NATIVE_NS }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in this binary (built for ${HOST})`)});`,
        loader: "js",
      }));
      // 2. The library, embedded and loaded before the binding the first time DuckDB is required,
      //    in the server and in every helper process alike.
      build.onLoad({ filter: /[\\/]@duckdb[\\/]node-bindings[\\/]duckdb\.js$/ }, async (args) => ({
        contents: `require(${JSON.stringify("lakehouse-native:libduckdb")});\n${await Bun.file(args.path).text()}`,
        loader: "js",
      }));
      build.onResolve({ filter: /^lakehouse-native:libduckdb$/ }, () => ({ path: "libduckdb", namespace: NATIVE_NS }));
      build.onLoad({ filter: /^libduckdb$/, namespace: NATIVE_NS }, () => ({
        contents: [
          `import path from ${JSON.stringify(lib)} with { type: "file" };`,
          `import { preloadLibduckdb } from ${JSON.stringify(loader)};`,
          `preloadLibduckdb({ path, sha256: ${JSON.stringify(libSha)}, size: ${statSync(lib).size} });`,
        ].join("\n"),
        loader: "js",
      }));
      // 4. The words embedder's table (src/embed/words-path.ts names where it is installed): embedded
      //    as a file, so the binary embeds offline like the source tree does.
      build.onLoad({ filter: /[\\/]embed[\\/]words-path\.ts$/ }, () => {
        if (!existsSync(wordsTable)) throw new Error(`build-binary: ${wordsTable} is missing; run bun install (its postinstall builds it)`);
        return {
          contents: [
            `import path from ${JSON.stringify(wordsTable)} with { type: "file" };`,
            `export const WORDS_MODEL = ${JSON.stringify(WORDS_MODEL)};`,
            `export const WORDS_TABLE_FILE = ${JSON.stringify(WORDS_TABLE_FILE)};`,
            "export const defaultWordsTablePath = path;",
          ].join("\n"),
          loader: "js",
        };
      });
      // 3. hnswlib-node's addon, required by path.
      build.onLoad({ filter: /[\\/]hnswlib-node[\\/]lib[\\/]index\.js$/ }, async (args) => {
        const text = await Bun.file(args.path).text();
        const from = "require('bindings')('addon')";
        if (!text.includes(from)) throw new Error(`build-binary: ${args.path} no longer loads its addon with ${from}; update the plugin`);
        return { contents: text.replace(from, `require(${JSON.stringify(addon)})`), loader: "js" };
      });
    },
  };
}

export async function buildBinary(outfile: string): Promise<{ outfile: string; bytes: number; ms: number }> {
  const t0 = performance.now();
  const result = await Bun.build({
    // The vector graph worker (src/vector/graph-worker.ts) is a second entry point: each index's graph
    // runs in a Worker started from it, found inside the executable by graph-client.ts.
    entrypoints: [join(ROOT, "src", "main.ts"), join(ROOT, "src", "vector", "graph-worker.ts")],
    target: "bun",
    minify: true,
    // Compiled ahead of time: `lakehouse version` took 0.05 s instead of 0.2 s, /health 200 came
    // 0.1 s sooner, for 8.5 MiB more and a 2–4 s build instead of 1 s (measured here). ESM because
    // src/main.ts awaits at the top level (bytecode defaults to CommonJS).
    bytecode: true,
    format: "esm",
    sourcemap: "none",
    define: { LAKEHOUSE_BUILD_INFO: JSON.stringify(buildInfo()) },
    plugins: [binaryPlugin()],
    compile: {
      outfile,
      // The binary reads its configuration from lakehouse.toml, the secrets file and LH_* variables
      // only (README, "Configuration"): a stray .env or bunfig.toml in its working directory must
      // not change it.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
  if (!result.success) throw new AggregateError(result.logs, `build-binary: the build failed:\n${result.logs.map(String).join("\n")}`);
  return { outfile, bytes: statSync(outfile).size, ms: Math.round(performance.now() - t0) };
}

if (import.meta.main) {
  const outfile = resolve(argValue("--outfile") ?? join(ROOT, "dist", "lakehouse"));
  const built = await buildBinary(outfile);
  console.log(
    `build-binary: ${relative(process.cwd(), built.outfile) || built.outfile} (${(built.bytes / 2 ** 20).toFixed(1)} MiB, ${HOST}) in ${(built.ms / 1000).toFixed(1)} s`,
  );
}
