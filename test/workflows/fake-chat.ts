// Local stand-ins for Ollama's and an OpenAI-compatible server's chat endpoints, speaking their wire
// formats (Ollama: POST /api/chat with stream false; OpenAI: POST /v1/chat/completions), on
// 127.0.0.1 port 0. The answer echoes the last user message, so tests can see what was sent.
export interface ChatBehaviour {
  /** Answer with this status and JSON body instead. */
  fail?: { status: number; body: unknown };
  /** Hold the answer until release() (or the server stops). */
  hang?: boolean;
  /** Answer this content instead of the echo. */
  content?: string;
}

export interface FakeChat {
  url: string;
  requests: { path: string; headers: Headers; body: any }[];
  behaviour: ChatBehaviour;
  /** Answers every held request. */
  release(): void;
  stop(): Promise<void>;
}

const lastUser = (body: any) => [...(body?.messages ?? [])].reverse().find((m: any) => m.role === "user")?.content ?? "";

function start(path: string, answer: (body: any, content: string) => unknown, apiKey?: string): FakeChat {
  const requests: FakeChat["requests"] = [];
  const behaviour: ChatBehaviour = {};
  const held = new Set<() => void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = await req.json().catch(() => null);
      requests.push({ path: url.pathname, headers: req.headers, body });
      if (req.method !== "POST" || url.pathname !== path) return new Response("404 page not found", { status: 404 });
      if (apiKey !== undefined && req.headers.get("authorization") !== `Bearer ${apiKey}`) {
        return Response.json({ error: { message: `Incorrect API key provided: ${apiKey.slice(0, 5)}****`, code: "invalid_api_key" } }, { status: 401 });
      }
      if (behaviour.hang) await new Promise<void>((resolve) => held.add(resolve));
      if (behaviour.fail) return Response.json(behaviour.fail.body, { status: behaviour.fail.status });
      return Response.json(answer(body, behaviour.content ?? `echo: ${lastUser(body)}`));
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    behaviour,
    release() {
      for (const r of held) r();
      held.clear();
    },
    async stop() {
      this.release();
      await server.stop(true);
    },
  };
}

export function startFakeOllamaChat(): FakeChat {
  return start("/api/chat", (body, content) => ({
    model: body.model,
    created_at: new Date().toISOString(),
    message: { role: "assistant", content },
    done_reason: "stop",
    done: true,
    total_duration: 1_000_000,
    prompt_eval_count: 12,
    eval_count: 5,
  }));
}

export function startFakeOpenAIChat(apiKey?: string): FakeChat {
  return start(
    "/v1/chat/completions",
    (body, content) => ({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
    }),
    apiKey,
  );
}
