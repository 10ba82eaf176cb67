/**
 * Which text of a `.nn` line a debugger hover evaluates: a name (`z1`, `h.W`) or a gradient
 * (`grad z1`). No VS Code API here (unit-tested).
 */

const NAME = /[\p{L}_][\p{L}\p{N}_]*/uy;
const KEYWORDS = new Set([
  'model', 'input', 'target', 'param', 'loss', 'backward', 'grad', 'const', 'function', 'data', 'train', 'check', 'on',
  'table', 'true', 'false',
]);

/** The expression under `character` of `line`, with its [start, end) columns; undefined for none. */
export function expressionAt(line: string, character: number): { expression: string; start: number; end: number } | undefined {
  // the identifier under the cursor
  let start = character;
  while (start > 0 && /[\p{L}\p{N}_]/u.test(line[start - 1])) start--;
  NAME.lastIndex = start;
  const m = NAME.exec(line);
  if (!m || m.index !== start || start + m[0].length < character) return undefined;
  let end = start + m[0].length;
  let name = m[0];
  // `h.W` / `h.b`: the dense layer's params, from either side of the dot
  const member = /^\.([Wb])(?![\p{L}\p{N}_])/u.exec(line.slice(end));
  if (member) {
    name = `${name}.${member[1]}`;
    end += member[0].length;
  } else if ((name === 'W' || name === 'b') && line[start - 1] === '.') {
    const owner = /([\p{L}_][\p{L}\p{N}_]*)\.$/u.exec(line.slice(0, start));
    if (owner) {
      name = `${owner[1]}.${name}`;
      start -= owner[0].length;
    }
  }
  if (name === 'grad') {
    const after = /^\s+([\p{L}_][\p{L}\p{N}_]*(?:\.[Wb](?![\p{L}\p{N}_]))?)/u.exec(line.slice(end));
    return after ? { expression: `grad ${after[1]}`, start, end: end + after[0].length } : undefined;
  }
  if (KEYWORDS.has(name) || /^\d/.test(name)) return undefined;
  if (/^\s*\(/.test(line.slice(end))) return undefined; // a call: sigmoid(…), dense(…)
  // `grad z1`
  const before = /(?<![\p{L}\p{N}_])grad\s+$/u.exec(line.slice(0, start));
  if (before) return { expression: `grad ${name}`, start: start - before[0].length, end };
  return { expression: name, start, end };
}
