// `lakehouse check-config`: loads the configuration exactly as `serve` would (file, secrets file,
// LH_* variables, one validation) and prints the effective result as TOML, secrets redacted, so it
// can be read, diffed or copied into a lakehouse.toml. A ConfigError is exit 2, as for serve.
import { loadConfig } from "../config/load.ts";
import { checkBindGate } from "../serve.ts";
import { SECRET_KEYS } from "../config/schema.ts";

export const REDACTED = "[redacted]";

type Tree = Record<string, unknown>;

const isTable = (v: unknown): v is Tree => v !== null && typeof v === "object" && !Array.isArray(v);

/** A non-empty secret becomes REDACTED (an empty one stays "", so "not set" is visible); so does a password inside any URL. */
export function redact(tree: Tree, prefix = ""): Tree {
  const out: Tree = {};
  for (const [k, val] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isTable(val)) out[k] = redact(val, path);
    else if (SECRET_KEYS.includes(path)) out[k] = val === "" ? "" : REDACTED;
    else if (typeof val === "string" && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(val))
      out[k] = val.replace(/(:\/\/[^/:@\s]*:)[^/@\s]*@/, `$1${REDACTED}@`);
    else out[k] = val;
  }
  return out;
}

const key = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));

function scalar(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(scalar).join(", ")}]`;
  throw new Error(`cannot render ${typeof v} as TOML`);
}

/** TOML for a tree of tables, scalars and arrays of scalars (the config's shapes). */
export function toToml(tree: Tree, path: string[] = []): string {
  const lines: string[] = [];
  const tables: [string, Tree][] = [];
  for (const [k, val] of Object.entries(tree)) {
    if (isTable(val)) tables.push([k, val]);
    else if (val !== undefined) lines.push(`${key(k)} = ${scalar(val)}`);
  }
  let text = "";
  if (path.length > 0 && (lines.length > 0 || tables.length === 0)) text += `[${path.map(key).join(".")}]\n`;
  if (lines.length > 0) text += `${lines.join("\n")}\n`;
  for (const [k, sub] of tables) text += `${text === "" ? "" : "\n"}${toToml(sub, [...path, k])}`;
  return text;
}

export interface CheckOutcome {
  code: 0 | 2;
  stdout: string;
  stderr: string;
}

export function checkConfig(opts: { config?: string; secrets?: string }, env: Record<string, string | undefined>): CheckOutcome {
  const argv = [...(opts.config ? ["--config", opts.config] : []), ...(opts.secrets ? ["--secrets", opts.secrets] : [])];
  try {
    const { config, file } = loadConfig({ argv, env });
    // What serve would refuse at start (a reachable bind without a token) is a config error here too.
    checkBindGate(config);
    const head = `# effective configuration: ${file ? `config file ${file}` : "defaults (no lakehouse.toml)"}, then the secrets file and LH_* variables; secrets redacted\n\n`;
    return { code: 0, stdout: head + toToml(redact(config as unknown as Tree)), stderr: "" };
  } catch (err) {
    // loadConfig throws ConfigError for every problem of the configuration; anything else is a
    // bug, and is still reported as a configuration that could not be checked.
    return { code: 2, stdout: "", stderr: `config error: ${err instanceof Error ? err.message : String(err)}\n` };
  }
}
