// Mode `llm.generate`: one chat completion through the configured provider (workflows.llm).
// `prompt` is a user message (with `system` before it), or give `messages` whole. With `json`, the
// answer is parsed too (output.json), so later steps can reference its fields.
import * as v from "valibot";
import { UpstreamError } from "../../errors.ts";
import { ownMode } from "./mode.ts";

const Message = v.strictObject({
  role: v.picklist(["system", "user", "assistant"]),
  content: v.pipe(v.string(), v.maxLength(1_000_000)),
});

const Input = v.pipe(
  v.strictObject({
    prompt: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1_000_000))),
    system: v.optional(v.pipe(v.string(), v.maxLength(1_000_000))),
    messages: v.optional(v.pipe(v.array(Message), v.minLength(1), v.maxLength(1000))),
    model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
    temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
    max_tokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000))),
    json: v.optional(v.pipe(v.boolean(), v.description("ask for a JSON object and parse it into output.json"))),
  }),
  v.check((x) => (x.prompt === undefined) !== (x.messages === undefined), "give exactly one of prompt or messages"),
);
type In = v.InferOutput<typeof Input>;

const Output = v.object({
  provider: v.string(),
  model: v.string(),
  content: v.string(),
  json: v.optional(v.unknown()),
  finish_reason: v.nullable(v.string()),
  usage: v.object({ prompt_tokens: v.nullable(v.number()), completion_tokens: v.nullable(v.number()) }),
});

export const HOW_TO_CONFIGURE =
  'mode llm.generate needs a chat provider: set workflows.llm.provider to "ollama" (workflows.llm.ollama.url, .model) or "openai" ' +
  "(workflows.llm.openai.url, .model, and api_key in the secrets file or LH_WORKFLOWS_LLM_OPENAI_API_KEY) and restart";

export default ownMode({
  name: "llm.generate",
  summary: "a chat completion through the configured Ollama or OpenAI-compatible provider (workflows.llm)",
  input: Input,
  output: Output,
  unavailable: (env) => (env.llm ? null : HOW_TO_CONFIGURE),
  run: async (raw, ctx) => {
    if (!ctx.llm) throw new UpstreamError(HOW_TO_CONFIGURE);
    const input = raw as In;
    const messages = input.messages ?? [
      ...(input.system ? [{ role: "system" as const, content: input.system }] : []),
      { role: "user" as const, content: input.prompt! },
    ];
    const answer = await ctx.llm.chat(
      { messages, model: input.model, temperature: input.temperature, max_tokens: input.max_tokens, json: input.json },
      ctx.call.signal,
    );
    if (!input.json) return answer;
    try {
      return { ...answer, json: JSON.parse(answer.content) };
    } catch {
      throw new UpstreamError(`llm provider ${answer.provider} was asked for JSON and answered with text that is not JSON`, { provider: answer.provider });
    }
  },
});
