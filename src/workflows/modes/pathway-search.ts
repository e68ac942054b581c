// Mode `pathway.search`: semantic search over pathway traces with the shared filter language — the operation pathway.search, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "pathway.search",
  operation: "pathway.search",
  summary: "semantic search over pathway traces with the shared filter language",
});
