// What the single binary knows about its own build. scripts/build-binary.ts defines
// LAKEHOUSE_BUILD_INFO at build time; from source it is not defined and the answer is null.

export interface BuildInfo {
  target: string;
  bun: string;
  built_at: string;
  commit: string;
  /** The flags hnswlib-node's addon was compiled with (scripts/build-native.ts). */
  hnswlib_cxxflags: string;
}

declare const LAKEHOUSE_BUILD_INFO: BuildInfo | undefined;

export const BUILD_INFO: BuildInfo | null = typeof LAKEHOUSE_BUILD_INFO === "undefined" ? null : LAKEHOUSE_BUILD_INFO;
