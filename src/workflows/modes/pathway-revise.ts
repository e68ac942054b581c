// Mode `pathway.revise`: a new trace that supersedes a given one — the operation pathway.revise, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "pathway.revise",
  operation: "pathway.revise",
  summary: "a new trace that supersedes a given one",
});
