/**
 * Every example and every `.nn` code block of the spec and of docs/language.md parses and
 * type-checks. Spec fragments that use a model `M` or data `D` they do not declare are wrapped
 * in a small program that declares them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeFile, analyzeText, type LangDiagnostic } from '../../language/index';
import { nnBlocks, wrap } from './spec-blocks';

const ROOT = resolve(__dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');
/** The spec: the developers' copy when it is there, else the copy committed with the tests. */
const LIVE_SPEC = resolve(ROOT, '../shared/spec/language.md');
const SPEC = existsSync(LIVE_SPEC) ? LIVE_SPEC : join(ROOT, 'test/fixtures/spec-language.md');
const DOCS = join(ROOT, 'docs/language.md');

const show = (ds: LangDiagnostic[]) =>
  ds.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.severity} ${d.code}: ${d.message}`);

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

describe('the spec’s code blocks', () => {
  const blocks = nnBlocks(readFileSync(SPEC, 'utf8'));

  test.skipIf(!existsSync(LIVE_SPEC))('the committed copy of the spec is up to date', () => {
    expect(readFileSync(join(ROOT, 'test/fixtures/spec-language.md'), 'utf8')).toBe(readFileSync(LIVE_SPEC, 'utf8'));
  });

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
