// SQL quoting in one place: every statement the server builds from a name (a dataset, a column)
// or a path quotes it here, so the escaping rule cannot drift between copies.

/** A double-quoted identifier; embedded double quotes are doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted string literal; embedded single quotes are doubled. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
