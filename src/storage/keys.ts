// Object keys are validated once, the same way for every backend, so a key that works on S3 works
// on the filesystem and can never name a path outside the store's root. Each limit is the tighter
// of the two backends': S3 caps a whole key at 1024 bytes, the filesystem each path segment at 255
// (NAME_MAX on Linux, macOS and Windows filesystems alike; a longer one was a 500 ENAMETOOLONG).
// Holding both backends to both keeps a bucket copyable to a directory and back.
import { ValidationFailed } from "../errors.ts";

/** S3's limit on a whole key. */
const MAX_KEY_BYTES = 1024;
/** The filesystem's limit on one path segment (NAME_MAX). */
const MAX_SEGMENT_BYTES = 255;

function keyProblem(key: string): string | null {
  if (key.length === 0) return "key is empty";
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return `key is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith("/")) return "key starts with /";
  if (key.includes("\\")) return "key contains a backslash";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) return "key contains a control character";
  const segments = key.split("/");
  if (segments.some((s) => s === "..")) return "key contains a .. segment";
  if (segments.some((s) => s === ".")) return "key contains a . segment";
  if (segments.some((s) => s === "")) return "key contains an empty segment (// or a trailing /)";
  if (segments.some((s) => Buffer.byteLength(s, "utf8") > MAX_SEGMENT_BYTES)) {
    return `key has a segment (between two /) longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

export function assertValidKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new ValidationFailed(`invalid object key: ${problem}`, [{ path: "key", message: problem }]);
}

/** A list prefix may end with / (a "folder") but is otherwise held to the key rules. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === "") return;
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  const problem = trimmed === "" ? "prefix is /" : keyProblem(trimmed);
  if (problem) throw new ValidationFailed(`invalid prefix: ${problem}`, [{ path: "prefix", message: problem }]);
}
