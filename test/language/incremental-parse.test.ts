/**
 * Parsing an edited document only where it changed (language/incremental-parse.ts) gives the tree
 * a whole parse gives: every AST node with its properties, references and syntax node, every CST
 * node with its offset, range and place in the tree, and every error. Random edits (seeded) of
 * the examples, the test cases and a file of many models — characters and lines deleted, braces,
 * comment openers, declarations and pieces of the file itself inserted — each applied to the tree
 * of the previous edit, as the editor does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EmptyFileSystem, isAstNode, isReference, type AstNode, type CstNode, type ParseResult } from 'langium';
import { describe, expect, test } from 'vitest';
import { spliceParse } from '../../language/incremental-parse';
import { createNnServices } from '../../language/index';

const ROOT = resolve(__dirname, '../..');
const { Nn } = createNnServices(EmptyFileSystem);
const parse = (text: string) => Nn.parser.LangiumParser.parse<AstNode>(text);

const range = (c: CstNode | undefined) => c && { offset: c.offset, length: c.length, range: c.range, text: c.text };

/** Everything of an AST node a consumer can see (its container by property and index). */
function ast(n: AstNode): unknown {
  const out: Record<string, unknown> = { $type: n.$type, $cst: range(n.$cstNode), $in: [n.$containerProperty, n.$containerIndex] };
  for (const [k, v] of Object.entries(n)) {
    if (k.startsWith('$')) continue;
    const one = (x: unknown): unknown => {
      if (isAstNode(x)) return x.$container === n ? ast(x) : 'not contained by its parent';
      if (isReference(x)) return { ref: x.$refText, node: range(x.$refNode) };
      return x;
    };
    out[k] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}

/** Every CST node in tree order: kind, extent, range, text, its AST node and grammar element, and whether it knows its root and container. */
function cst(root: CstNode): unknown[] {
  const out: unknown[] = [];
  const visit = (c: CstNode, container: CstNode | undefined) => {
    const content = (c as CstNode & { content?: CstNode[] }).content;
    let owner: string | undefined;
    try {
      owner = c.astNode.$type;
    } catch {
      owner = undefined;
    }
    out.push([content ? 'composite' : 'leaf', c.offset, c.length, c.range, c.hidden, c.text, owner, c.grammarSource?.$type, c.root === root, c.container === container]);
    for (const child of content ?? []) visit(child, c);
  };
  visit(root, undefined);
  return out;
}

function view(r: ParseResult<AstNode>) {
  return {
    ast: ast(r.value),
    cst: cst(r.value.$cstNode!),
    lexerErrors: r.lexerErrors.map((e) => [e.offset, e.length, e.line, e.column, e.message]),
    report: (r.lexerReport?.diagnostics ?? []).map((e) => [e.offset, e.length, e.message]),
    parserErrors: r.parserErrors.map((e) => [e.name, e.message, e.token.startOffset, e.token.image, e.token.startLine, e.token.startColumn]),
  };
}

/** A small seeded generator (mulberry32). */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] };
}

const SNIPPETS = [
  '}', '{', '\n', '\n\n', ' ', '(', ')', '/*', '*/', '// note\n', '"', '+ 1', '\n  + 2', '@', 'x', 'grad',
  'model X {\n  input x: [2]\n  loss C = sum(x)\n}\n', 'const Q = 3\n', 'train M1 on ring\n', 'data d = circle(n: 10)\n',
  '  z9 = tanh(z1)\n', 'function f(a) = a * 2\n', '  grad a = 2\n', '\r\n', 'backward {\n', 'σ', 'é = 1\n',
];

/** An edit of `text`: a deletion, an insertion (a snippet or a piece of the text itself) or a replacement. */
function edit(text: string, rnd: ReturnType<typeof random>): string {
  const at = rnd.int(text.length + 1);
  const kind = rnd.int(3);
  const piece = () => {
    if (rnd.next() < 0.3 && text.length > 0) {
      const from = rnd.int(text.length);
      return text.slice(from, from + 1 + rnd.int(60));
    }
    return rnd.pick(SNIPPETS);
  };
  const cut = kind === 1 ? 0 : rnd.int(rnd.next() < 0.8 ? 6 : 80);
  const insert = kind === 0 ? '' : piece();
  return text.slice(0, at) + insert + text.slice(at + cut);
}

function manyModels(n: number): string {
  const out = ['// many models', 'const H = 8', 'function swish(z) = z * sigmoid(z)', '  grad z = sigmoid(z) * (1 + z * (1 - sigmoid(z)))', 'data ring = circle(n: 50)', ''];
  for (let i = 1; i <= n; i++) {
    out.push(
      `/* model ${i} */ model M${i} {`,
      '  input x: [2]',
      '  target t: [1]',
      '  param W1: [H, 2] = normal(0, 0.5)',
      '  param b1: [H] = zeros',
      '  param W2: [1, H]',
      '  z1 = W1 @ x + b1',
      `  a1 = ${['tanh', 'swish', 'relu'][i % 3]}(z1)`,
      '  y = sigmoid(W2 @ a1) // the output',
      '  loss C = mse(y, t)',
      '}',
      `train M${i} on ring { epochs: 1 }`,
      '',
    );
  }
  return out.join('\n');
}

const files = [
  ...['examples', ...readdirSync(join(ROOT, 'test/cases')).map((d) => `test/cases/${d}`)].flatMap((d) =>
    readdirSync(join(ROOT, d))
      .filter((f) => f.endsWith('.nn'))
      .map((f) => [`${d}/${f}`, readFileSync(join(ROOT, d, f), 'utf8')] as const),
  ),
  ['many models', manyModels(8)] as const,
];

describe('a document parsed again only where it changed', () => {
  test('equals a whole parse after every edit of a sequence, for every file', () => {
    let spliced = 0;
    let edits = 0;
    files.forEach(([, source], k) => {
      const rnd = random(1000 + k);
      for (let run = 0; run < 4; run++) {
        let text = source;
        let tree = parse(text);
        for (let step = 0; step < 8; step++) {
          const next = edit(text, rnd);
          if (next === text) continue;
          edits++;
          const whole = parse(next);
          const expected = JSON.stringify(view(whole));
          const partial = spliceParse(tree, next, parse);
          if (partial) {
            spliced++;
            const got = JSON.stringify(view(partial));
            if (got !== expected) expect({ text, next, tree: JSON.parse(got) }).toEqual({ text, next, tree: JSON.parse(expected) });
            tree = partial;
          } else {
            tree = whole;
          }
          text = next;
        }
      }
    });
    // many are parsed in part (the others may change what follows them, or follow an edit that
    // left an error elsewhere: random edits of small files)
    expect(spliced).toBeGreaterThan(edits / 4);
  });

  test('an edit inside one model of many parses that model and its neighbours only', () => {
    const text = manyModels(20);
    const tree = parse(text);
    const at = text.indexOf('model M10 {');
    const next = text.slice(0, at) + text.slice(at).replace('param b1: [H]', 'param b1: [9]');
    const seen: string[] = [];
    const partial = spliceParse(tree, next, (t) => {
      seen.push(t);
      return parse(t);
    });
    expect(partial).toBeDefined();
    // the text parsed: M10 (the last declaration that starts before the change) and its train
    // block (the sentinel), the rest blank
    const parsed = seen[0].trim();
    expect(parsed.startsWith('model M10 {')).toBe(true);
    expect(parsed.endsWith('train M10 on ring { epochs: 1 }')).toBe(true);
    expect(view(partial!)).toEqual(view(parse(next)));
  });

  test('a block comment opened in one model and closed after the next declaration is parsed whole', () => {
    const text = manyModels(5);
    const tree = parse(text);
    // closed by the `*/` of model 3's comment: M2's train block and M3's comment are in it
    const next = text.replace('  z1 = W1 @ x + b1\n  a1 = swish(z1)', '  z1 = W1 @ x + b1 /*\n  a1 = swish(z1)');
    expect(next).not.toBe(text);
    expect(spliceParse(tree, next, parse)).toBeUndefined();
  });

  test('text nested too deeply is parsed whole (the nesting guard judges the whole text)', () => {
    const text = manyModels(5);
    const tree = parse(text);
    const deep = '('.repeat(80) + 'x' + ')'.repeat(80);
    const next = text.replace('  a1 = swish(z1)', `  a1 = swish(z1) + ${deep}`);
    expect(next).not.toBe(text);
    expect(parse(next).lexerReport?.diagnostics.map((d) => d.message.slice(0, 17))).toContain('nested too deeply');
    expect(spliceParse(tree, next, parse)).toBeUndefined();
  });
});
