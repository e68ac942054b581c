// Mode `observer.review`: have the observer check a claim against evidence (SQL truth over a
// dataset) and answer a verdict — the observer's review operation, called in-process.
import { adapter } from "./mode.ts";

export default adapter({
  name: "observer.review",
  operation: "observer.review",
  summary: "the observer reviews a claim against SQL evidence and answers a verdict (accept, reject, or could not check)",
});
