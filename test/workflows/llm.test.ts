// llm.generate against local fake servers speaking Ollama's and OpenAI's chat wire formats:
// what is sent, what comes back (JSON answers parsed), upstream failures as step errors with no
// secret in them, and a step timeout.
import { afterAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { startFakeOllamaChat, startFakeOpenAIChat } from "./fake-chat.ts";
import { startRun, stepOf, waitRun } from "./helpers.ts";

const ollama = startFakeOllamaChat();
const KEY = "sk-test-abcdef123456";
const openai = startFakeOpenAIChat(KEY);
const viaOllama = await testLakehouse({ workflows: { llm: { provider: "ollama", ollama: { url: ollama.url, model: "llama-test" } } } });
const viaOpenAI = await testLakehouse({ workflows: { llm: { provider: "openai", openai: { url: `${openai.url}/v1`, model: "gpt-test", api_key: KEY } } } });
afterAll(async () => {
  await viaOllama.close();
  await viaOpenAI.close();
  await ollama.stop();
  await openai.stop();
});

const steps = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  inputs: { who: "string" },
  steps: [
    { id: "facts", mode: "transform", input: { from: { city: "Gary" } } },
    { id: "g", mode: "llm.generate", needs: ["facts"], input, ...extra },
  ],
});

test("Ollama: /api/chat with stream false, system + prompt with references, options; content and usage back", async () => {
  const started = await startRun(viaOllama, {
    workflow: steps({ system: "be brief", prompt: "welders in {{steps.facts.output.city}} for {{inputs.who}}", temperature: 0.2, max_tokens: 64 }),
    inputs: { who: "ana" },
  });
  const run = await waitRun(viaOllama, started.body.id);
  expect(run.status).toBe("succeeded");
  const sent = ollama.requests.at(-1)!;
  expect(sent.path).toBe("/api/chat");
  expect(sent.body).toEqual({
    model: "llama-test",
    stream: false,
    options: { temperature: 0.2, num_predict: 64 },
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "welders in Gary for ana" },
    ],
  });
  expect(stepOf(run, "g").output).toEqual({
    provider: "ollama",
    model: "llama-test",
    content: "echo: welders in Gary for ana",
    finish_reason: "stop",
    usage: { prompt_tokens: 12, completion_tokens: 5 },
  });
});

test("OpenAI-compatible: /chat/completions with the key as Bearer, json mode parsed into output.json", async () => {
  openai.behaviour.content = '{"verdict": "hire", "score": 4}';
  const run = await waitRun(
    viaOpenAI,
    (
      await startRun(viaOpenAI, {
        workflow: steps({ messages: [{ role: "user", content: "rate {{inputs.who}}" }], json: true, model: "gpt-x" }),
        inputs: { who: "bo" },
      })
    ).body.id,
  );
  openai.behaviour.content = undefined;
  expect(run.status).toBe("succeeded");
  const sent = openai.requests.at(-1)!;
  expect(sent.path).toBe("/v1/chat/completions");
  expect(sent.headers.get("authorization")).toBe(`Bearer ${KEY}`);
  expect(sent.body).toEqual({ model: "gpt-x", messages: [{ role: "user", content: "rate bo" }], response_format: { type: "json_object" } });
  expect(stepOf(run, "g").output).toMatchObject({
    provider: "openai",
    model: "gpt-x",
    json: { verdict: "hire", score: 4 },
    usage: { prompt_tokens: 9, completion_tokens: 3 },
  });
});

test("an upstream failure is the step's upstream_error, its message scrubbed of the key; a text answer to json mode fails", async () => {
  openai.behaviour.fail = { status: 500, body: { error: { message: `backend down for ${KEY} at http://10.0.0.9:8000/x` } } };
  const run = await waitRun(viaOpenAI, (await startRun(viaOpenAI, { workflow: steps({ prompt: "hi" }), inputs: { who: "x" } })).body.id);
  openai.behaviour.fail = undefined;
  const err = stepOf(run, "g").error;
  expect(err.code).toBe("upstream_error");
  expect(err.message).toContain("HTTP 500");
  expect(err.message).not.toContain(KEY);
  expect(err.message).not.toContain("10.0.0.9");

  const text = await waitRun(viaOllama, (await startRun(viaOllama, { workflow: steps({ prompt: "hi", json: true }), inputs: { who: "x" } })).body.id);
  expect(stepOf(text, "g").error).toMatchObject({ code: "upstream_error" });
  expect(stepOf(text, "g").error.message).toContain("not JSON");
});

test("a provider that does not answer is stopped at the step's timeout_ms", async () => {
  ollama.behaviour.hang = true;
  const run = await waitRun(viaOllama, (await startRun(viaOllama, { workflow: steps({ prompt: "hi" }, { timeout_ms: 100 }), inputs: { who: "x" } })).body.id);
  ollama.behaviour.hang = false;
  ollama.release();
  expect(stepOf(run, "g")).toMatchObject({ status: "failed", error: { code: "timeout" } });
});

test("bad input is refused at validation: both prompt and messages, a role that does not exist", async () => {
  const both = await startRun(viaOllama, { workflow: steps({ prompt: "a", messages: [{ role: "user", content: "b" }] }), inputs: { who: "x" } });
  expect(both.status).toBe(400);
  expect(both.body.error.details[0].message).toContain("exactly one of prompt or messages");
  const role = await startRun(viaOllama, { workflow: steps({ messages: [{ role: "robot", content: "b" }] }), inputs: { who: "x" } });
  expect(role.body.error.details[0].path).toBe("steps[1].input.messages[0].role");
});
