// The saved workflow of the agent loop (loop.test.ts, scripts/bench/workflows.ts): matrix.search
// with a filter → matrix.relevance → matrix.gate → observer.review of the claim against SQL truth →
// on accept, matrix.playbook seals it and pathway.add records it → the audit receipt → a report.
// Free of bun:test: the benchmark imports it.

/** The steps after the claim is made; `claim` says whose placement is claimed. */
export function placeCandidates(claim: string) {
  return {
    inputs: { query: "string", state: "string", skill: "string" },
    steps: [
      {
        id: "search",
        mode: "matrix.search",
        input: { query: "{{inputs.query}}", corpora: ["workers"], k: 10, filter: { state: "{{inputs.state}}", available: true }, explain: true },
      },
      {
        id: "relevant",
        mode: "matrix.relevance",
        needs: ["search"],
        input: { results: "{{steps.search.output.results}}", required_terms: ["{{inputs.skill}}"] },
      },
      { id: "gate", mode: "matrix.gate", needs: ["relevant"], input: { results: "{{steps.relevant.output.results}}", corpora: ["workers"] } },
      {
        id: "review",
        mode: "observer.review",
        needs: ["relevant"],
        input: {
          claim: { worker_id: claim, skill: "{{inputs.skill}}", state: "{{inputs.state}}", available: true },
          evidence: [
            {
              sql: "select count(*) from workers where worker_id = ? and primary_skill = ? and state = ? and available",
              params: [claim, "{{inputs.skill}}", "{{inputs.state}}"],
              expect: 1,
            },
          ],
          source: "place-candidates",
        },
      },
      {
        id: "seal",
        mode: "matrix.playbook",
        needs: ["review"],
        when: "steps.review.output.verdict = accept",
        input: { query: "{{inputs.query}}", corpus: "workers", id: claim, outcome: "success", note: "placed by place-candidates" },
      },
      {
        id: "learn",
        mode: "pathway.add",
        needs: ["seal", "gate"],
        input: {
          namespace: "place-candidates",
          kind: "placement",
          content: "{{inputs.skill}} placement in {{inputs.state}}: {{steps.seal.output.item_id}} for {{inputs.query}}",
          data: { worker_id: "{{steps.seal.output.item_id}}", playbook: "{{steps.seal.output.id}}", gate: "{{steps.gate.output.tier}}" },
          tags: ["placement"],
        },
      },
      { id: "receipt", mode: "pathway.audit", needs: ["learn"], input: { uid: "{{steps.learn.output.trace.uid}}" } },
      {
        id: "report",
        mode: "transform",
        needs: ["receipt", "gate"],
        input: {
          from: {
            verdict: "{{steps.review.output.verdict}}",
            worker: "{{steps.seal.output.item_id}}",
            gate: "{{steps.gate.output.tier}}",
            receipt: "{{steps.receipt.output.receipts[0]}}",
          },
        },
      },
    ],
  };
}
