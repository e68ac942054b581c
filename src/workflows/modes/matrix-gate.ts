// Mode `matrix.gate`: the downgrade gate (small or strong) on given results — the operation matrix.gate, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "matrix.gate",
  operation: "matrix.gate",
  summary: "the downgrade gate (small or strong) on given results",
});
