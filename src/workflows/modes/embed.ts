// Mode `embed`: embed texts with the configured provider: {texts, model?} → {model, dimension, vectors} — the operation embed.texts, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "embed",
  operation: "embed.texts",
  summary: "embed texts with the configured provider: {texts, model?} → {model, dimension, vectors}",
});
