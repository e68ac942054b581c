// Mode `pathway.audit`: the pathway's hash-chained audit receipts (for a uid: what a run changed, as proof).
import { adapter } from "./mode.ts";

export default adapter({
  name: "pathway.audit",
  operation: "pathway.audit",
  summary: "the pathway's audit receipts in seq order, optionally for one uid (what a step recorded, with its hash chain)",
});
