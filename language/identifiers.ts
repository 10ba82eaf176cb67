/**
 * What a name is (§9): a letter of any script or `_`, then letters, combining marks (the hat of
 * `ŷ` written as y + ◌̂), digits of any script and `_` — the grammar's `ID` terminal
 * (nn.langium). The editor's word ranges (hover, rename, completion) use the same classes.
 */

/** The source of one character that may continue a name (use with the `u` flag). */
export const NAME_CHAR_SOURCE = '[\\p{L}\\p{M}\\p{N}_]';

/** The source of a whole name (use with the `u` flag). */
export const NAME_SOURCE = `[_\\p{L}]${NAME_CHAR_SOURCE}*`;

/** One character of a name. */
export const NAME_CHAR = new RegExp(NAME_CHAR_SOURCE, 'u');

/** A whole string that is a name (keywords included: check those separately). */
export function isName(s: string): boolean {
  return new RegExp(`^${NAME_SOURCE}$`, 'u').test(s);
}
