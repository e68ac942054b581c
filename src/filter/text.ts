// The text form of the filter language, for people and language models that write filters as
// a line: `state = IL and available = true and hourly_rate <= 22`. It is turned into the object
// form (parse.ts checks that like any other filter), so both forms mean exactly the same thing.
//
//   expr  := and ("or" and)*
//   and   := unary ("and" unary)*
//   unary := "not" unary | "(" expr ")" | cond
//   cond  := field op value | field ["not"] "in" "(" value ("," value)* ")" | field ["not"] "exists"
//   op    := = | == | != | <> | < | <= | > | >=
//   value := number | 'text' | "text" | true | false | null | bare word (a string: IL, day_shift);
//            digits with a leading zero (02134) are a string
//
// Keywords are case-insensitive; a field is a name or a dotted path (address.zip).

import { MAX_FILTER_DEPTH } from "./limits.ts";

export class FilterTextError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(`${message} at character ${offset + 1}`);
  }
}

type Token = { kind: "word" | "string" | "number" | "op" | "punct"; text: string; value?: string | number; at: number };

const OPS: Record<string, string> = { "=": "$eq", "==": "$eq", "!=": "$ne", "<>": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte" };
const KEYWORDS = new Set(["and", "or", "not", "in", "exists"]);
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const WORD = /^[A-Za-z_][\w.-]*/;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === ",") {
      out.push({ kind: "punct", text: ch, at: i++ });
      continue;
    }
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      let value = "";
      for (; j < text.length && text[j] !== ch; j++) value += text[j] === "\\" && j + 1 < text.length ? text[++j] : text[j];
      if (j >= text.length) throw new FilterTextError(i, "unterminated string");
      out.push({ kind: "string", text: text.slice(i, j + 1), value, at: i });
      i = j + 1;
      continue;
    }
    const op = ["<=", ">=", "==", "!=", "<>", "=", "<", ">"].find((o) => text.startsWith(o, i));
    if (op) {
      out.push({ kind: "op", text: op, at: i });
      i += op.length;
      continue;
    }
    const num = NUMBER.exec(text.slice(i));
    if (num && !WORD.test(text.slice(i + num[0].length, i + num[0].length + 1))) {
      // A leading zero (a zip code, an id) keeps it a string, as ingest's inference does.
      const code = /^-?0\d/.test(num[0]);
      out.push({ kind: code ? "string" : "number", text: num[0], value: code ? num[0] : Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const word = WORD.exec(text.slice(i));
    if (!word) throw new FilterTextError(i, `unexpected "${ch}"`);
    out.push({ kind: "word", text: word[0], at: i });
    i += word[0].length;
  }
  return out;
}

/** Turns the text form into the object form; throws FilterTextError naming the character. */
export function filterFromText(text: string): Record<string, unknown> {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const end = text.length;
  const isKeyword = (t: Token | undefined, k: string) => t?.kind === "word" && t.text.toLowerCase() === k;
  const expect = (what: string): never => {
    const t = peek();
    throw new FilterTextError(t ? t.at : end, `expected ${what}${t ? `, found "${t.text}"` : ", found the end"}`);
  };

  const value = (): unknown => {
    const t = peek();
    if (!t) return expect("a value");
    if (t.kind === "string" || t.kind === "number") {
      pos++;
      return t.value;
    }
    if (t.kind === "word" && !KEYWORDS.has(t.text.toLowerCase())) {
      pos++;
      const lower = t.text.toLowerCase();
      return lower === "true" ? true : lower === "false" ? false : lower === "null" ? null : t.text;
    }
    return expect("a value");
  };

  const list = (): unknown[] => {
    if (peek()?.text !== "(") expect('"(" after in');
    pos++;
    const values = [value()];
    while (peek()?.text === ",") {
      pos++;
      values.push(value());
    }
    if (peek()?.text !== ")") expect('"," or ")"');
    pos++;
    return values;
  };

  const cond = (): Record<string, unknown> => {
    const t = peek();
    if (t?.kind !== "word" || KEYWORDS.has(t.text.toLowerCase())) return expect("a field name");
    pos++;
    const field = t.text;
    const next = peek();
    if (next?.kind === "op") {
      pos++;
      return { [field]: { [OPS[next.text]!]: value() } };
    }
    let negated = false;
    if (isKeyword(next, "not")) {
      negated = true;
      pos++;
    }
    if (isKeyword(peek(), "in")) {
      pos++;
      return { [field]: { [negated ? "$nin" : "$in"]: list() } };
    }
    if (isKeyword(peek(), "exists")) {
      pos++;
      return { [field]: { $exists: !negated } };
    }
    return expect(negated ? '"in" or "exists" after not' : 'a comparison (=, !=, <, <=, >, >=), "in" or "exists"');
  };

  // Nesting is bounded like the object form's, so deep input is a 400, not a stack overflow.
  let depth = 0;
  const nested = <T>(at: number, parse: () => T): T => {
    if (++depth > MAX_FILTER_DEPTH) throw new FilterTextError(at, `filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
    try {
      return parse();
    } finally {
      depth--;
    }
  };
  const unary = (): Record<string, unknown> => {
    const t = peek();
    if (isKeyword(t, "not")) {
      pos++;
      return nested(t!.at, () => ({ $not: unary() }));
    }
    if (t?.text === "(") {
      pos++;
      return nested(t.at, () => {
        const inner = or();
        if (peek()?.text !== ")") expect('")"');
        pos++;
        return inner;
      });
    }
    return cond();
  };

  const chain = (keyword: "and" | "or", operand: () => Record<string, unknown>): Record<string, unknown> => {
    const parts = [operand()];
    while (isKeyword(peek(), keyword)) {
      pos++;
      parts.push(operand());
    }
    return parts.length === 1 ? parts[0]! : { [`$${keyword}`]: parts };
  };
  const and = () => chain("and", unary);
  const or = () => chain("or", and);

  if (tokens.length === 0) throw new FilterTextError(0, "empty filter");
  const doc = or();
  if (pos < tokens.length) expect('"and", "or" or the end');
  return doc;
}
