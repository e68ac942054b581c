// [catalog] config: how long replaced and deleted versions stay restorable.
import * as v from "valibot";
import { nonNegativeInt, positiveInt } from "../lib/config.ts";

export const catalogSection = v.strictObject({
  /**
   * The data objects of a dataset's newest `keep_versions` versions (the live one counts) stay in
   * the store, so those versions can be queried ("name@3") and restored.
   */
  keep_versions: v.optional(positiveInt, 10),
  /** Any version that was live within the last `keep_days` days is kept as well, however many came after. */
  keep_days: v.optional(nonNegativeInt, 7),
});

export type CatalogConfig = v.InferOutput<typeof catalogSection>;
