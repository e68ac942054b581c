// Loads config from one place: lakehouse.toml, then an optional secrets file, then LH_* env
// overrides, validated once against src/config/schema.ts. Any problem is a ConfigError naming the
// key and where it came from; main.ts turns it into exit code 2.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { type Config, configSchema, SECRET_KEYS } from "./schema.ts";

export class ConfigError extends Error {}

export interface LoadOptions {
  argv?: string[];
  env?: Record<string, string | undefined>;
  /** Used when no --config is given. */
  defaultPath?: string;
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file read, or null when defaults were used. */
  file: string | null;
}

/** LH_* variables that are not config keys. */
const RESERVED_ENV = new Set(["LH_CONFIG", "LH_SECRETS_FILE", "LH_NATIVE_CXXFLAGS"]);
/** Keys whose value is a table of arbitrary names (env form: "name=value,name=value"). */
const RECORD_KEYS = new Set(["storage.prefix_caps"]);

type Tree = Record<string, unknown>;

function argValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i === -1) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith("--")) throw new ConfigError(`${flag} needs a path`);
  return value;
}

function readToml(path: string, label: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`cannot read ${label} ${path}`);
  }
  try {
    return Bun.TOML.parse(text) as Tree;
  } catch (err) {
    throw new ConfigError(`${label} ${path} is not valid TOML: ${(err as Error).message}`);
  }
}

/** Leaf key paths of the default config, with their default values (which give the env types). */
function leaves(tree: Tree, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value) && !RECORD_KEYS.has(path)) {
      for (const [k, val] of leaves(value as Tree, path)) out.set(k, val);
    } else out.set(path, value);
  }
  return out;
}

export function envName(path: string): string {
  return `LH_${path.replace(/\./g, "_").toUpperCase()}`;
}

function coerce(raw: string, example: unknown, name: string): unknown {
  if (typeof example === "number") {
    const n = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(n)) throw new ConfigError(`${name}: expected a number, got "${raw}"`);
    return n;
  }
  if (typeof example === "boolean") {
    const t = raw.trim().toLowerCase();
    if (["true", "1", "yes"].includes(t)) return true;
    if (["false", "0", "no"].includes(t)) return false;
    throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
  }
  if (Array.isArray(example))
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (example && typeof example === "object") {
    const table: Record<string, number> = {};
    for (const pair of raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = pair.lastIndexOf("=");
      const n = Number(pair.slice(eq + 1));
      if (eq < 1 || !Number.isFinite(n)) throw new ConfigError(`${name}: expected "name=number,...", got "${pair}"`);
      table[pair.slice(0, eq)] = n;
    }
    return table;
  }
  return raw;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!next || typeof next !== "object" || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, val] of Object.entries(over)) {
    const cur = out[k];
    const bothTables = cur && val && typeof cur === "object" && typeof val === "object" && !Array.isArray(cur) && !Array.isArray(val);
    out[k] = bothTables ? deepMerge(cur as Tree, val as Tree) : val;
  }
  return out;
}

function flatKeys(tree: Tree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([k, val]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return val && typeof val === "object" && !Array.isArray(val) && !RECORD_KEYS.has(path) ? flatKeys(val as Tree, path) : [path];
  });
}

/** The source of a key or of the nearest enclosing key ("auth.allowed_ips.0" → "auth.allowed_ips"). */
function sourceOf(sources: Map<string, string>, key: string): string | undefined {
  for (let parts = key.split("."); parts.length > 0; parts = parts.slice(0, -1)) {
    const hit = sources.get(parts.join("."));
    if (hit) return hit;
  }
  return undefined;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const argv = opts.argv ?? [];
  const env = opts.env ?? {};
  const explicit = argValue(argv, "--config") ?? env.LH_CONFIG;
  const configPath = resolve(explicit ?? opts.defaultPath ?? "lakehouse.toml");
  const sources = new Map<string, string>();

  let tree: Tree = {};
  let file: string | null = null;
  if (explicit !== undefined || existsSync(configPath)) {
    tree = readToml(configPath, "config file");
    file = configPath;
    for (const key of flatKeys(tree)) sources.set(key, `config file ${configPath}`);
  }

  const secretsArg = argValue(argv, "--secrets") ?? env.LH_SECRETS_FILE;
  const secretsPath = secretsArg !== undefined ? resolve(secretsArg) : join(dirname(configPath), "lakehouse.secrets.toml");
  if (secretsArg !== undefined || existsSync(secretsPath)) {
    const secrets = readToml(secretsPath, "secrets file");
    for (const key of flatKeys(secrets)) {
      if (!SECRET_KEYS.includes(key)) {
        throw new ConfigError(`secrets file ${secretsPath}: key "${key}" is not a secret; allowed: ${SECRET_KEYS.join(", ")}`);
      }
      sources.set(key, `secrets file ${secretsPath}`);
    }
    tree = deepMerge(tree, secrets);
  }

  const known = leaves(v.parse(configSchema, {}) as Tree);
  const byEnv = new Map([...known.keys()].map((path) => [envName(path), path]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("LH_") || raw === undefined || RESERVED_ENV.has(name)) continue;
    const path = byEnv.get(name);
    if (!path) throw new ConfigError(`unknown environment variable ${name}: no config key has that name`);
    setPath(tree, path, coerce(raw, known.get(path), name));
    sources.set(path, `environment variable ${name}`);
  }

  const result = v.safeParse(configSchema, tree);
  if (!result.success) {
    const lines = result.issues.map((issue) => {
      const key = (issue.path ?? []).map((p) => String(p.key)).join(".");
      const unknown = issue.expected === "never";
      const where = sourceOf(sources, key) ?? (file ? `config file ${file}` : "defaults");
      const what = unknown ? `unknown key "${key}"` : `invalid value for "${key || "(root)"}"`;
      return `${what} in ${where}: ${unknown ? "not a config key" : issue.message}`;
    });
    throw new ConfigError(lines.join("\n"));
  }
  return { config: result.output, file };
}
