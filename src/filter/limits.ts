// Limits both forms of the filter language share. In a file of its own so that parse.ts (which
// turns the text form into the object form through text.ts) and text.ts need not import each other.

/** Nesting deeper than this is refused, in either form, before it can overflow the stack. */
export const MAX_FILTER_DEPTH = 32;
