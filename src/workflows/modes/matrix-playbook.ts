// Mode `matrix.playbook`: record an outcome (success or failure) for a result of a query: later similar queries are boosted or penalized — the operation matrix.record_playbook, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "matrix.playbook",
  operation: "matrix.record_playbook",
  summary: "record an outcome (success or failure) for a result of a query: later similar queries are boosted or penalized",
});
