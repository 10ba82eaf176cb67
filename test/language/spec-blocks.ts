/** The `nn` code blocks of a markdown file (the spec, the docs) and how fragments are completed. */

/** The ```nn blocks of a markdown file, with the heading (§) they are under. */
export function nnBlocks(markdown: string): { section: string; code: string }[] {
  const out: { section: string; code: string }[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)/.exec(lines[i]);
    if (h) section = h[1];
    if (lines[i].trim() === '```nn') {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
      out.push({ section, code: body.join('\n') });
    }
  }
  return out;
}

/** Declares what a fragment uses but does not declare: a model M and a data set D. */
export function wrap(code: string): string {
  const declares = (kw: string, name: string) => new RegExp(`^\\s*${kw}\\s+${name}\\b`, 'm').test(code);
  let prelude = '';
  if (/\bon\s+D\b/.test(code) && !declares('data', 'D')) prelude += 'data D = xor()\n';
  if (/\b(train|check)\s+M\b/.test(code) && !declares('model', 'M')) {
    prelude +=
      'model M {\n  input x: [2]\n  target t: [1]\n  h = dense(x, 4, tanh)\n  y = dense(h, 1, sigmoid)\n' +
      '  loss C = binary_cross_entropy(y, t)\n  backward {\n    grad C = 1\n  }\n}\n';
  }
  return prelude + code;
}
