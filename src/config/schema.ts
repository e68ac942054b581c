// The one definition of every config key: its type, its default and its check. `lakehouse.toml`,
// the secrets file and `LH_<SECTION>_<KEY>` env overrides are all validated against it.
import * as v from "valibot";
import { catalogSection } from "../catalog/config.ts";
import { embedSection } from "../embed/config.ts";
import { ingestSection } from "../ingest/config.ts";
import { matrixSection } from "../matrix/config.ts";
import { observerSection } from "../observer/config.ts";
import { workflowsSection } from "../workflows/config.ts";
import { pathwaySection } from "../pathway/config.ts";
import { sqlSection } from "../sql/config.ts";
import { vectorSection } from "../vector/config.ts";
import { parseCidr } from "../http/cidr.ts";
import { normalizeAllowedHost } from "../http/host.ts";
import { GiB, MiB, nonNegativeInt, positiveInt } from "../lib/config.ts";
import { LAYOUT } from "../storage/layout.ts";

const bindAddress = v.pipe(
  v.string(),
  v.regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/, 'expected "host:port", e.g. "127.0.0.1:3110" or "[::1]:3110"'),
  v.check((s) => {
    const port = Number(s.slice(s.lastIndexOf(":") + 1));
    return port >= 0 && port <= 65535;
  }, "port must be 0-65535"),
);

const serverSection = v.strictObject({
  bind: v.optional(bindAddress, "127.0.0.1:3110"),
  /** Cap on JSON request bodies; uploads have their own caps. */
  max_json_bytes: v.optional(positiveInt, MiB),
  /** How long shutdown waits for in-flight requests before closing their connections. */
  shutdown_grace_ms: v.optional(nonNegativeInt, 10_000),
  access_log: v.optional(v.boolean(), true),
  /**
   * Host names answered besides localhost, 127.0.0.1 and [::1] (any port). Without auth.token,
   * a request addressed to any other name gets 403 (DNS rebinding, src/http/host.ts); with a
   * token the list is enforced only when it is not empty.
   */
  allowed_hosts: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.check((s) => normalizeAllowedHost(s) !== null, "not a host name or IP address (no scheme, no port)"),
      ),
    ),
    [],
  ),
  /**
   * Validate every operation's result against its declared schema before sending it: a
   * development and test aid (the suite runs with it on); it costs time per request.
   */
  check_results: v.optional(v.boolean(), false),
});

const fsSection = v.strictObject({
  root: v.optional(v.pipe(v.string(), v.minLength(1)), "./data"),
  /**
   * fsync each object and its directory before acknowledging a write. An acknowledged write
   * survives kill -9 either way (the kernel has it); with fsync it also survives power loss.
   */
  fsync: v.optional(v.boolean(), true),
});

const s3Section = v.strictObject({
  endpoint: v.optional(v.string(), ""),
  region: v.optional(v.pipe(v.string(), v.minLength(1)), "us-east-1"),
  bucket: v.optional(v.string(), ""),
  path_style: v.optional(v.boolean(), true),
  access_key_id: v.optional(v.string(), ""),
  secret_access_key: v.optional(v.string(), ""),
  /** Multipart part size; S3 requires at least 5 MiB. */
  part_size_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5 * MiB)), 8 * MiB),
  /** "auto" probes whether the server honours If-None-Match: * and says so when it does not. */
  conditional_writes: v.optional(v.picklist(["auto", "required", "emulate"]), "auto"),
});

const storageSection = v.pipe(
  v.strictObject({
    backend: v.optional(v.picklist(["fs", "s3"]), "fs"),
    /** Largest object under any prefix without its own cap. */
    max_object_bytes: v.optional(positiveInt, 256 * MiB),
    /** Per-prefix caps; the longest matching prefix wins. */
    prefix_caps: v.optional(v.record(v.pipe(v.string(), v.minLength(1)), positiveInt), { [LAYOUT.vectors]: 4 * GiB }),
    /** PUTs streaming at once; further ones wait, so large uploads cannot exhaust memory. */
    put_concurrency: v.optional(positiveInt, 8),
    fs: v.optional(fsSection, {}),
    s3: v.optional(s3Section, {}),
  }),
  v.check((s) => s.backend !== "s3" || (s.s3.bucket !== "" && s.s3.endpoint !== ""), "backend s3 needs storage.s3.endpoint and storage.s3.bucket"),
);

const authSection = v.strictObject({
  token: v.optional(v.string(), ""),
  allowed_ips: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.check((s) => parseCidr(s) !== null, "not an IP address or CIDR range"),
      ),
    ),
    [],
  ),
});

export const configSchema = v.strictObject({
  server: v.optional(serverSection, {}),
  storage: v.optional(storageSection, {}),
  auth: v.optional(authSection, {}),
  catalog: v.optional(catalogSection, {}),
  embed: v.optional(embedSection, {}),
  ingest: v.optional(ingestSection, {}),
  sql: v.optional(sqlSection, {}),
  vector: v.optional(vectorSection, {}),
  matrix: v.optional(matrixSection, {}),
  pathway: v.optional(pathwaySection, {}),
  observer: v.optional(observerSection, {}),
  workflows: v.optional(workflowsSection, {}),
});

export type Config = v.InferOutput<typeof configSchema>;

/** Keys that may hold secrets: accepted from the secrets file, never logged. */
export const SECRET_KEYS = ["auth.token", "storage.s3.access_key_id", "storage.s3.secret_access_key", "embed.openai.api_key", "workflows.llm.openai.api_key"];
