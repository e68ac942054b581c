// The text of `lakehouse --help`, also printed (on stderr) after a usage error.

export const USAGE = `Usage: lakehouse [command] [options]

Commands:
  serve                 serve the HTTP API (the default when no command is given)
      --config PATH       config file (default ./lakehouse.toml; env LH_CONFIG)
      --secrets PATH      secrets file (default lakehouse.secrets.toml beside the config; env LH_SECRETS_FILE)
  check-config          validate the configuration and print it, secrets redacted (exit 2 on an error)
      --config PATH, --secrets PATH   as for serve
  version [--json]      this build: lakehouse, Bun, DuckDB and hnswlib versions, build flags
  mcp [options]         bridge an MCP client on stdio to a running server's /v1/mcp
                        (lakehouse mcp --help for its options)
  help, --help, -h      this text

Environment: LH_<SECTION>_<KEY> overrides a config key (README, "Configuration");
LAKEHOUSE_NATIVE_CACHE moves the single binary's native library cache.
Exit codes: 0 ok, 1 start-up failed (a module could not open), 2 usage or config error.
`;
