// Mode `pathway.add`: record a trace in the pathway memory (the same memory again is replayed, not duplicated) — the operation pathway.add, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "pathway.add",
  operation: "pathway.add",
  summary: "record a trace in the pathway memory (the same memory again is replayed, not duplicated)",
});
