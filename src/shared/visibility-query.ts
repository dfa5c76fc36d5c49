/** A string literal for a Temporal visibility query: backslashes and quotes escaped, so no value ends the literal. */
export const queryLiteral = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
