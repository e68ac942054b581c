// Outbound calls to embedding servers and what their answers may say back to our caller. Every
// failure becomes UpstreamError (502) or Timeout (504) naming the provider; no message carries an
// upstream URL (it may embed credentials), an API key, or a server's raw non-JSON body.
import { Timeout, UpstreamError } from "../errors.ts";
import { readStreamCapped } from "../lib/capped-stream.ts";
import type { EmbedProvider, ProviderName } from "./provider.ts";

const MAX_MESSAGE = 300;

export interface UpstreamRequest {
  provider: string;
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Strings that must never appear in an error we raise (API keys). */
  secrets?: readonly string[];
  /** The answer is read up to this many bytes; a longer one is an upstream error, not an out-of-memory. */
  maxBytes: number;
}

/**
 * The most an honest answer for `count` texts can take: the vector module's largest dimension
 * (16,384) at ≈24 characters per JSON number, plus room for the envelope.
 */
export const responseCap = (count: number) => count * 16_384 * 24 + 64 * 1024;

class TooLong extends Error {}

/** The answer's text, read up to `maxBytes`: a longer one is an upstream error, not an out-of-memory. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  return new TextDecoder().decode(await readStreamCapped(res.body, declared, maxBytes, () => new TooLong()));
}

/** The error text a server put in its JSON body: Ollama's {"error": "..."} or OpenAI's {"error": {"message": "..."}}. */
export function upstreamErrorText(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error === "string") return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}

/** Removes secrets, key-like tokens and credentialed URLs from a message meant for the caller. */
export function scrub(message: string, secrets: readonly string[] = []): string {
  let out = message;
  for (const secret of secrets) if (secret) out = out.split(secret).join("[redacted]");
  out = out
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[url]")
    // OpenAI quotes a masked key ("sk-proj-ab****yz") on some errors; even masked, it stays out.
    .replace(/\bsk-[A-Za-z0-9*_-]{4,}/g, "[redacted]")
    .replace(/\bBearer\s+\S+/gi, "Bearer [redacted]");
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

function statusError(provider: string, status: number, body: string, secrets: readonly string[]): UpstreamError {
  const details = { provider, status };
  if (status === 401 || status === 403) {
    return new UpstreamError(`embedding provider ${provider} rejected our credentials (HTTP ${status})`, details);
  }
  const text = upstreamErrorText(body);
  const suffix = text ? `: ${scrub(text, secrets)}` : "";
  return new UpstreamError(`embedding provider ${provider} failed with HTTP ${status}${suffix}`, details);
}

/** The transport's error is kept as the cause (for the log); its message may quote the URL, so the caller gets only its kind. */
function transportError(req: UpstreamRequest, err: unknown): Error {
  const opts = { cause: err };
  if (req.signal?.aborted) return new Timeout(`embedding provider ${req.provider} did not answer before the deadline`, { provider: req.provider }, opts);
  const code = (err as { code?: unknown } | null)?.code;
  const kind = typeof code === "string" && /^[A-Z_]+$/.test(code) ? ` (${code})` : "";
  return new UpstreamError(`embedding provider ${req.provider} is unreachable${kind}`, { provider: req.provider }, opts);
}

export async function postJson(req: UpstreamRequest): Promise<unknown> {
  let text: string;
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...req.headers },
      body: JSON.stringify(req.body),
      signal: req.signal,
      // A redirect could carry the API key to another host; an embedding endpoint has no reason to move.
      redirect: "manual",
    });
    text = await readCapped(res, req.maxBytes);
  } catch (err) {
    if (err instanceof TooLong)
      throw new UpstreamError(`embedding provider ${req.provider} answered with more than ${req.maxBytes} bytes`, {
        provider: req.provider,
        max_bytes: req.maxBytes,
      });
    throw transportError(req, err);
  }
  if (!res.ok) throw statusError(req.provider, res.status, text, req.secrets ?? []);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UpstreamError(`embedding provider ${req.provider} answered with invalid JSON`, { provider: req.provider }, { cause: err });
  }
}

/** Checks an upstream's vectors: one per text, finite numbers, one shared non-zero dimension. */
export function checkVectors(provider: string, vectors: unknown, count: number): number[][] {
  const bad = (why: string) => new UpstreamError(`embedding provider ${provider} answered with ${why}`, { provider });
  if (!Array.isArray(vectors)) throw bad("no embeddings");
  if (vectors.length !== count) throw bad(`${vectors.length} embeddings for ${count} texts`);
  const dimension = Array.isArray(vectors[0]) ? vectors[0].length : 0;
  if (dimension === 0) throw bad("an empty embedding");
  for (const vec of vectors) {
    if (!Array.isArray(vec) || vec.length !== dimension) throw bad("embeddings of different dimensions");
    for (const x of vec) if (typeof x !== "number" || !Number.isFinite(x)) throw bad("a non-numeric embedding value");
  }
  return vectors as number[][];
}

/** Joins a configured base URL and an API path without doubling or losing the slash. */
export function endpoint(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

/**
 * A provider behind an HTTP server: subclasses make the call and pick the vectors out of the
 * answer; the checks and the dimension learnt from the default model's answers live here.
 */
export abstract class UpstreamProvider implements EmbedProvider {
  abstract readonly name: ProviderName;
  #dimension: number | undefined;

  constructor(readonly defaultModel: string) {}

  get dimension(): number | undefined {
    return this.#dimension;
  }

  /** The raw vectors of the answer, in input order (checked by the caller). */
  protected abstract request(texts: readonly string[], model: string, signal?: AbortSignal): Promise<unknown>;

  async embed(texts: readonly string[], model = this.defaultModel, signal?: AbortSignal): Promise<number[][]> {
    const vectors = checkVectors(this.name, await this.request(texts, model, signal), texts.length);
    if (model === this.defaultModel) this.#dimension = vectors[0]!.length;
    return vectors;
  }
}
