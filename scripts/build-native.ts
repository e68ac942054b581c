// Builds hnswlib-node's native addon as part of `bun install` (the root postinstall).
//
// Why this exists instead of the package's own install script:
// - node-gyp downloads Node headers by default; machines without internet have them in
//   /usr/include/node, so we point node-gyp there when they exist (`npm_config_nodedir`),
//   and leave it alone on a normal dev box.
// - hnswlib picks its SIMD kernels at compile time. The npm build uses SSE only; on an x86-64
//   CPU with AVX2+FMA we compile with `-mavx2 -mfma`, which runs on any such CPU (unlike
//   `-march=native`, which may bake in AVX-512). `LH_NATIVE_CXXFLAGS` overrides the choice.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const pkgDir = join(import.meta.dir, "..", "node_modules", "hnswlib-node");
const addon = join(pkgDir, "build", "Release", "addon.node");
const stampFile = join(pkgDir, "build", "lakehouse-flags");

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("flags"));
    return new Set((line ?? "").split(":")[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

function chooseCxxFlags(): string {
  const override = process.env.LH_NATIVE_CXXFLAGS;
  if (override !== undefined) return override;
  const flags = cpuFlags();
  if (process.arch === "x64" && flags.has("avx2") && flags.has("fma")) return "-O3 -mavx2 -mfma";
  return "-O3";
}

if (!existsSync(pkgDir)) {
  console.log("build-native: hnswlib-node is not installed; nothing to build");
  process.exit(0);
}

const cxxflags = chooseCxxFlags();
if (existsSync(addon) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === cxxflags) {
  console.log(`build-native: hnswlib-node already built (${cxxflags})`);
  process.exit(0);
}

const env: Record<string, string | undefined> = { ...process.env, CXXFLAGS: cxxflags };
if (!env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) env.npm_config_nodedir = "/usr";

const nodeGyp = join(import.meta.dir, "..", "node_modules", "node-gyp", "bin", "node-gyp.js");
const runtime = Bun.which("node") ?? process.execPath;
const started = performance.now();
const proc = Bun.spawnSync([runtime, nodeGyp, "rebuild"], { cwd: pkgDir, env, stdout: "ignore", stderr: "pipe" });
if (proc.exitCode !== 0) {
  console.error(proc.stderr.toString().split("\n").slice(-25).join("\n"));
  console.error("build-native: building hnswlib-node failed (needs python3, make and a C++ compiler)");
  process.exit(1);
}
writeFileSync(stampFile, cxxflags);
console.log(`build-native: built hnswlib-node with CXXFLAGS="${cxxflags}" in ${((performance.now() - started) / 1000).toFixed(1)}s`);
