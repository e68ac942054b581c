// Chat completions for `llm.generate`, through a provider configured like the embed providers:
// Ollama (POST <url>/api/chat, stream false) or any OpenAI-compatible server (POST
// <url>/chat/completions). Failures are UpstreamError (502) or Timeout (504) naming the provider;
// no message carries the upstream URL, the API key or a raw non-JSON body (embed/upstream.ts scrubs).
import { Timeout, UpstreamError } from "../../errors.ts";
import { readStreamCapped } from "../../lib/capped-stream.ts";
import { endpoint, scrub, upstreamErrorText } from "../../embed/upstream.ts";
import type { LlmConfig } from "../config.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  model?: string;
  temperature?: number;
  max_tokens?: number;
  /** Ask for a JSON object answer (Ollama format "json", OpenAI response_format json_object). */
  json?: boolean;
}

export interface ChatAnswer {
  provider: "ollama" | "openai";
  model: string;
  content: string;
  finish_reason: string | null;
  usage: { prompt_tokens: number | null; completion_tokens: number | null };
}

export interface LlmClient {
  readonly provider: "ollama" | "openai";
  readonly defaultModel: string;
  chat(req: ChatRequest, signal: AbortSignal): Promise<ChatAnswer>;
}

class TooLong extends Error {}

interface Post {
  provider: string;
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  secrets: string[];
  maxBytes: number;
  timeoutMs: number;
  signal: AbortSignal;
}

async function postJson(req: Post): Promise<unknown> {
  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, deadline]);
  let res: Response;
  let text: string;
  try {
    res = await fetch(req.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...req.headers },
      body: JSON.stringify(req.body),
      signal,
      // A redirect could carry the API key to another host.
      redirect: "manual",
    });
    const declared = Number(res.headers.get("content-length") ?? 0);
    text = new TextDecoder().decode(await readStreamCapped(res.body, declared, req.maxBytes, () => new TooLong()));
  } catch (err) {
    const details = { provider: req.provider };
    if (err instanceof TooLong) throw new UpstreamError(`llm provider ${req.provider} answered with more than ${req.maxBytes} bytes`, details);
    if (deadline.aborted)
      throw new Timeout(`llm provider ${req.provider} did not answer within ${req.timeoutMs} ms (workflows.llm.timeout_ms)`, details, { cause: err });
    if (req.signal.aborted) throw err;
    const code = (err as { code?: unknown } | null)?.code;
    const kind = typeof code === "string" && /^[A-Z_]+$/.test(code) ? ` (${code})` : "";
    throw new UpstreamError(`llm provider ${req.provider} is unreachable${kind}`, details, { cause: err });
  }
  if (!res.ok) {
    const details = { provider: req.provider, status: res.status };
    if (res.status === 401 || res.status === 403)
      throw new UpstreamError(`llm provider ${req.provider} rejected our credentials (HTTP ${res.status})`, details);
    const said = upstreamErrorText(text);
    throw new UpstreamError(`llm provider ${req.provider} failed with HTTP ${res.status}${said ? `: ${scrub(said, req.secrets)}` : ""}`, details);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UpstreamError(`llm provider ${req.provider} answered with invalid JSON`, { provider: req.provider }, { cause: err });
  }
}

const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null);
const bad = (provider: string, why: string) => new UpstreamError(`llm provider ${provider} answered with ${why}`, { provider });

function ollama(cfg: LlmConfig): LlmClient {
  const o = cfg.ollama;
  return {
    provider: "ollama",
    defaultModel: o.model,
    async chat(req, signal) {
      const model = req.model ?? o.model;
      const options: Record<string, number> = {};
      if (req.temperature !== undefined) options.temperature = req.temperature;
      if (req.max_tokens !== undefined) options.num_predict = req.max_tokens;
      const body: Record<string, unknown> = { model, messages: req.messages, stream: false, options };
      if (req.json) body.format = "json";
      const a = (await postJson({
        provider: "ollama",
        url: endpoint(o.url, "/api/chat"),
        body,
        secrets: [],
        maxBytes: cfg.max_response_bytes,
        timeoutMs: cfg.timeout_ms,
        signal,
      })) as { model?: unknown; message?: { content?: unknown }; done_reason?: unknown; prompt_eval_count?: unknown; eval_count?: unknown } | null;
      const content = a?.message?.content;
      if (typeof content !== "string") throw bad("ollama", "no message content");
      return {
        provider: "ollama",
        model: typeof a?.model === "string" ? a.model : model,
        content,
        finish_reason: typeof a?.done_reason === "string" ? a.done_reason : null,
        usage: { prompt_tokens: num(a?.prompt_eval_count), completion_tokens: num(a?.eval_count) },
      };
    },
  };
}

function openai(cfg: LlmConfig): LlmClient {
  const o = cfg.openai;
  return {
    provider: "openai",
    defaultModel: o.model,
    async chat(req, signal) {
      const model = req.model ?? o.model;
      const body: Record<string, unknown> = { model, messages: req.messages };
      if (req.temperature !== undefined) body.temperature = req.temperature;
      if (req.max_tokens !== undefined) body.max_tokens = req.max_tokens;
      if (req.json) body.response_format = { type: "json_object" };
      const a = (await postJson({
        provider: "openai",
        url: endpoint(o.url, "/chat/completions"),
        body,
        headers: o.api_key ? { authorization: `Bearer ${o.api_key}` } : {},
        secrets: [o.api_key],
        maxBytes: cfg.max_response_bytes,
        timeoutMs: cfg.timeout_ms,
        signal,
      })) as {
        model?: unknown;
        choices?: { message?: { content?: unknown }; finish_reason?: unknown }[];
        usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
      } | null;
      const choice = Array.isArray(a?.choices) ? a.choices[0] : undefined;
      const content = choice?.message?.content;
      if (typeof content !== "string") throw bad("openai", "no choices[0].message.content");
      return {
        provider: "openai",
        model: typeof a?.model === "string" ? a.model : model,
        content,
        finish_reason: typeof choice?.finish_reason === "string" ? choice.finish_reason : null,
        usage: { prompt_tokens: num(a?.usage?.prompt_tokens), completion_tokens: num(a?.usage?.completion_tokens) },
      };
    },
  };
}

/** The configured client, or null with provider "none". */
export function llmClient(cfg: LlmConfig): LlmClient | null {
  if (cfg.provider === "ollama") return ollama(cfg);
  if (cfg.provider === "openai") return openai(cfg);
  return null;
}
