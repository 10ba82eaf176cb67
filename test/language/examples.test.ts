/**
 * Every example and every `.nn` code block of the spec and of docs/language.md parses and
 * type-checks. Spec fragments that use a model `M` or data `D` they do not declare are wrapped
 * in a small program that declares them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeFile, analyzeText, type LangDiagnostic } from '../../language/index';

const ROOT = resolve(__dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');
const SPEC = resolve(ROOT, '../shared/spec/language.md');
const DOCS = join(ROOT, 'docs/language.md');

const show = (ds: LangDiagnostic[]) =>
  ds.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.severity} ${d.code}: ${d.message}`);

/** The ```nn blocks of a markdown file, with the heading (§) they are under. */
function nnBlocks(markdown: string): { section: string; code: string }[] {
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
function wrap(code: string): string {
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

describe('examples', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nn'));

  test('there are examples', () => {
    expect(files).toEqual(expect.arrayContaining(['byhand.nn', 'data.nn', 'digits.nn', 'functions.nn', 'training.nn', 'xor.nn']));
  });

  test.each(files)('%s has no errors or warnings and every model is lowered', async (f) => {
    const a = await analyzeFile(join(EXAMPLES, f));
    expect(show(a.diagnostics)).toEqual([]);
    expect(a.skippedModels).toEqual([]);
    const source = readFileSync(join(EXAMPLES, f), 'utf8');
    const models = [...source.matchAll(/^model\s+(\w+)/gm)].map((m) => m[1]);
    expect(a.program.models.map((m) => m.name)).toEqual(models);
    const trains = [...source.matchAll(/^train\s+(\w+)/gm)].map((m) => m[1]);
    expect(a.program.trains.map((t) => t.model)).toEqual(trains);
  });
});

describe.skipIf(!existsSync(SPEC))('the spec’s code blocks (../shared/spec/language.md)', () => {
  const blocks = existsSync(SPEC) ? nnBlocks(readFileSync(SPEC, 'utf8')) : [];

  test('the spec has code blocks for §1, §4, §5, §6 and §7', () => {
    const sections = blocks.map((b) => b.section.split('.')[0]);
    for (const s of ['1', '4', '5', '6', '7']) expect(sections).toContain(s);
  });

  test.each(blocks.map((b, i) => [`${b.section} #${i + 1}`, b.code] as const))(
    '%s parses and type-checks',
    async (_name, code) => {
      // Relative csv paths of the spec point at the examples' data folder.
      const a = await analyzeText(wrap(code), { uri: join(EXAMPLES, 'spec-block.nn') });
      expect(show(a.diagnostics.filter((d) => d.severity === 'error'))).toEqual([]);
      expect(a.skippedModels).toEqual([]);
    },
  );
});

describe('docs/language.md code blocks', () => {
  const blocks = existsSync(DOCS) ? nnBlocks(readFileSync(DOCS, 'utf8')) : [];

  test('the language reference has examples', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  test.each(blocks.map((b, i) => [`${b.section} #${i + 1}`, b.code] as const))(
    '%s parses and type-checks',
    async (_name, code) => {
      const a = await analyzeText(wrap(code), { uri: join(EXAMPLES, 'docs-block.nn') });
      expect(show(a.diagnostics.filter((d) => d.severity === 'error'))).toEqual([]);
    },
  );
});
