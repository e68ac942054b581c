// Mode `vector.search`: k nearest items of a vector index, with the shared filter language — the operation vector.search, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "vector.search",
  operation: "vector.search",
  summary: "k nearest items of a vector index, with the shared filter language",
});
