// `lakehouse version`: what this executable is made of. Loading DuckDB and hnswlib here is the
// point: in the single binary it proves the embedded native parts load on this machine, and the
// vector kernels (WebAssembly SIMD) are run once on a known answer.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { version as duckdbVersion } from "@duckdb/node-api";
import hnswPkg from "hnswlib-node/package.json" with { type: "json" };
import { loadedLibduckdb } from "../native/libduckdb.ts";
import { VERSION } from "../version.ts";
import { BUILD_INFO } from "./build-info.ts";

export interface VersionReport {
  lakehouse: string;
  bun: string;
  bun_revision: string;
  duckdb: string;
  hnswlib_node: string;
  /** "wasm simd128" when the kernels ran and gave the known answer. */
  vector_kernels: string;
  platform: string;
  /** The flags hnswlib-node's addon was compiled with (scripts/build-native.ts). */
  hnswlib_cxxflags: string;
  /** null when run from source. */
  build: (typeof BUILD_INFO & { native_cache: string | null }) | null;
}

async function kernels(): Promise<string> {
  try {
    const { VectorSlab } = await import("../vector/slab.ts");
    const slab = new VectorSlab(4, 2);
    slab.set(0, [1, 2, 3, 4]);
    let score = Number.NaN;
    slab.score("ip", new Float32Array([1, 1, 1, 1]), [0], (_i, d) => {
      score = d;
    });
    // Inner-product distance is 1 - dot: 1 - 10.
    return score === -9 ? "wasm simd128" : `wasm simd128 gave ${score} for a known -9`;
  } catch (err) {
    return `unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** In the binary, baked in at build time; from source, the stamp scripts/build-native.ts leaves. */
function hnswlibFlags(): string {
  if (BUILD_INFO) return BUILD_INFO.hnswlib_cxxflags;
  try {
    const stamp = join(dirname(require.resolve("hnswlib-node/package.json")), "build", "lakehouse-flags");
    return existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "unknown";
  } catch {
    return "unknown";
  }
}

export async function versionReport(): Promise<VersionReport> {
  const duckdb = duckdbVersion();
  return {
    lakehouse: VERSION,
    bun: Bun.version,
    bun_revision: Bun.revision,
    duckdb,
    hnswlib_node: hnswPkg.version,
    vector_kernels: await kernels(),
    platform: `${process.platform}-${process.arch}`,
    hnswlib_cxxflags: hnswlibFlags(),
    build: BUILD_INFO ? { ...BUILD_INFO, native_cache: loadedLibduckdb()?.path ?? null } : null,
  };
}

export function renderVersion(r: VersionReport): string {
  const lines = [
    `lakehouse ${r.lakehouse}`,
    `bun ${r.bun} (${r.bun_revision.slice(0, 12)})`,
    `duckdb ${r.duckdb}`,
    `hnswlib-node ${r.hnswlib_node} (CXXFLAGS "${r.hnswlib_cxxflags}")`,
    `vector kernels: ${r.vector_kernels}`,
  ];
  if (r.build) {
    lines.push(
      `build: single binary for ${r.build.target}, commit ${r.build.commit}, built ${r.build.built_at} with bun ${r.build.bun}`,
      `native cache: ${r.build.native_cache ?? "not loaded"}`,
    );
  } else lines.push(`build: from source (${r.platform})`);
  return `${lines.join("\n")}\n`;
}
