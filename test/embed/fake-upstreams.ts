// Local stand-ins for Ollama and an OpenAI-compatible server, speaking their wire formats exactly
// (Ollama: POST /api/embed; OpenAI: POST /v1/embeddings), on 127.0.0.1 port 0. They record every
// request so tests can count upstream calls and inspect what was sent.
export interface Recorded {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

export interface FakeBehaviour {
  /** Answer with this status and body (a string is sent as is, anything else as JSON) instead of embeddings. */
  fail?: { status: number; body: unknown };
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer 307 to this location. */
  redirectTo?: string;
  /** Never answer (until the server stops). */
  hang?: boolean;
  /** Answer 200 with this raw body. */
  raw?: string;
  /** OpenAI only: list `data` in reverse order, as the API is allowed to. */
  reverse?: boolean;
  /** Models the server knows; others get the server's own "not found" error. */
  models?: string[];
}

export interface FakeUpstream {
  url: string;
  requests: Recorded[];
  behaviour: FakeBehaviour;
  /** The vector this server returns for a text under a model. */
  vectorFor(model: string, text: string): number[];
  /** Forgets recorded requests and set behaviour (between tests). */
  reset(): void;
  stop(): Promise<void>;
}

export const FAKE_DIMENSION = 6;

/** Deterministic per (model, text), different across models, never all-zero. */
export function fakeVector(model: string, text: string): number[] {
  const seed = BigInt(Bun.hash(`${model}\u0000${text}`));
  return Array.from({ length: FAKE_DIMENSION }, (_, i) => Number((seed >> BigInt(i * 8)) & 0xffn) / 255 + 0.001 * (i + 1));
}

const inputs = (input: unknown): string[] => (Array.isArray(input) ? input : [input]) as string[];

function start(handle: (body: Record<string, unknown>, req: Request, behaviour: FakeBehaviour) => Response, path: string): FakeUpstream {
  const requests: Recorded[] = [];
  const behaviour: FakeBehaviour = {};
  const pending = new Set<() => void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = (await req.json().catch(() => null)) as Record<string, unknown>;
      requests.push({ method: req.method, path: url.pathname, headers: req.headers, body });
      if (req.method !== "POST" || url.pathname !== path) return new Response("404 page not found", { status: 404 });
      if (behaviour.delayMs) await Bun.sleep(behaviour.delayMs);
      if (behaviour.redirectTo) return new Response(null, { status: 307, headers: { location: behaviour.redirectTo } });
      if (behaviour.hang) return new Promise<Response>((resolve) => pending.add(() => resolve(new Response("late"))));
      if (behaviour.fail) {
        const { status, body: errBody } = behaviour.fail;
        return typeof errBody === "string" ? new Response(errBody, { status }) : Response.json(errBody, { status });
      }
      if (behaviour.raw !== undefined) return new Response(behaviour.raw, { headers: { "content-type": "application/json" } });
      return handle(body, req, behaviour);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    behaviour,
    vectorFor: fakeVector,
    reset() {
      requests.length = 0;
      for (const k of Object.keys(behaviour)) delete behaviour[k as keyof FakeBehaviour];
    },
    async stop() {
      for (const release of pending) release();
      await server.stop(true);
    },
  };
}

export function startFakeOllama(): FakeUpstream {
  return start((body, _req, behaviour) => {
    const model = String(body.model);
    if (behaviour.models && !behaviour.models.includes(model)) {
      return Response.json({ error: `model "${model}" not found, try pulling it first` }, { status: 404 });
    }
    const texts = inputs(body.input);
    return Response.json({
      model,
      embeddings: texts.map((t) => fakeVector(model, t)),
      total_duration: 14143917,
      load_duration: 1019500,
      prompt_eval_count: texts.length,
    });
  }, "/api/embed");
}

export function startFakeOpenAI(apiKey?: string): FakeUpstream {
  return start((body, req, behaviour) => {
    if (apiKey !== undefined && req.headers.get("authorization") !== `Bearer ${apiKey}`) {
      const masked = `${apiKey.slice(0, 6)}${"*".repeat(8)}${apiKey.slice(-4)}`;
      return Response.json(
        {
          error: {
            message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        },
        { status: 401 },
      );
    }
    const model = String(body.model);
    const texts = inputs(body.input);
    const data = texts.map((t, index) => ({ object: "embedding", index, embedding: fakeVector(model, t) }));
    if (behaviour.reverse) data.reverse();
    return Response.json({ object: "list", data, model, usage: { prompt_tokens: texts.length * 3, total_tokens: texts.length * 3 } });
  }, "/v1/embeddings");
}

/** A URL nothing listens on: a server's port, taken and released. */
export async function deadUrl(): Promise<string> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const url = `http://127.0.0.1:${server.port}`;
  await server.stop(true);
  return url;
}
