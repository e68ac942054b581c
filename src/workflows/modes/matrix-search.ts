// Mode `matrix.search`: search several corpora with a filter, fuse, boost from playbooks, cut for relevance, decide the gate — the operation matrix.search, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "matrix.search",
  operation: "matrix.search",
  summary: "search several corpora with a filter, fuse, boost from playbooks, cut for relevance, decide the gate",
});
