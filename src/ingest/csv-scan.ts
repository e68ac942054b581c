// An RFC 4180 scanner that finds the first malformed record of a CSV and its line number. It runs
// only after DuckDB has refused a file, to tell the caller where the problem is.

export interface CsvProblem {
  /** 1-based physical line where the offending record starts (the header is line 1). */
  line: number;
  message: string;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export class CsvScanner {
  private line = 1;
  private recordLine = 1;
  private fields = 0;
  private fieldChars = 0;
  private inQuotes = false;
  private quoteLine = 1;
  private afterQuote = false;
  private pendingCr = false;
  private expected: number | null = null;
  private bomChecked = false;
  private problem: CsvProblem | null = null;

  constructor(private readonly delimiter: number) {}

  get found(): CsvProblem | null {
    return this.problem;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    if (!this.bomChecked) {
      this.bomChecked = true;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) start = 3;
    }
    for (let i = start; i < chunk.length && !this.problem; i++) this.byte(chunk[i]!);
  }

  /** The first problem in the whole input, or null when the file is well formed. */
  finish(): CsvProblem | null {
    if (this.problem) return this.problem;
    if (this.inQuotes) {
      this.problem = { line: this.quoteLine, message: `a quoted field starting on line ${this.quoteLine} is never closed` };
      return this.problem;
    }
    if (this.fields > 0 || this.fieldChars > 0 || this.afterQuote) this.endRecord();
    return this.problem;
  }

  private byte(b: number): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      if (b === LF) return;
    }
    if (this.inQuotes) {
      if (b === QUOTE) {
        this.inQuotes = false;
        this.afterQuote = true;
      } else if (b === LF) this.line++;
      return;
    }
    if (b === QUOTE) {
      if (this.afterQuote) {
        // A doubled quote inside a quoted field.
        this.inQuotes = true;
        this.afterQuote = false;
      } else if (this.fieldChars === 0) {
        this.inQuotes = true;
        this.quoteLine = this.line;
      } else this.fail(`a quote inside an unquoted field on line ${this.line}`, this.line);
      this.fieldChars++;
      return;
    }
    if (b === this.delimiter) {
      this.fields++;
      this.fieldChars = 0;
      this.afterQuote = false;
      return;
    }
    if (b === LF || b === CR) {
      if (b === CR) this.pendingCr = true;
      this.endRecord();
      this.line++;
      this.recordLine = this.line;
      return;
    }
    if (this.afterQuote) {
      this.fail(`unexpected text after a closing quote on line ${this.line}`, this.line);
      return;
    }
    this.fieldChars++;
  }

  private endRecord(): void {
    const blank = this.fields === 0 && this.fieldChars === 0 && !this.afterQuote;
    const count = this.fields + 1;
    this.fields = 0;
    this.fieldChars = 0;
    this.afterQuote = false;
    if (blank) return;
    if (this.expected === null) this.expected = count;
    else if (count !== this.expected) {
      this.fail(`line ${this.recordLine} has ${count} field${count === 1 ? "" : "s"}; expected ${this.expected}`, this.recordLine);
    }
  }

  private fail(message: string, line: number): void {
    this.problem ??= { line, message };
  }
}
