// Mode `pathway.retire`: retire a trace (it leaves search and list) — the operation pathway.retire, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "pathway.retire",
  operation: "pathway.retire",
  summary: "retire a trace (it leaves search and list)",
});
