/**
 * Data-driven language tests: every `.nn` file under the language's case folders carries its
 * expectations as markers (see markers.ts). Each marker must be matched on its line, and no
 * error or warning may appear without a marker.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeFile } from '../../language/index';
import { checkMarkers, parseMarkers, parseModelList } from './markers';

const ROOT = resolve(__dirname, '../cases');
/** The folders the language layer owns (others belong to the engine's tests). */
const TOPICS = ['shapes', 'names', 'functions', 'backward', 'options', 'data', 'sizes', 'syntax'];

const files = TOPICS.flatMap((t) => {
  const dir = join(ROOT, t);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.nn'))
        .sort()
        .map((f) => `${t}/${f}`)
    : [];
});

describe('language cases', () => {
  test('there are case files for every topic', () => {
    for (const t of TOPICS) expect(files.some((f) => f.startsWith(`${t}/`)), t).toBe(true);
  });

  test.each(files)('%s', async (file) => {
    const path = join(ROOT, file);
    const source = readFileSync(path, 'utf8');
    const a = await analyzeFile(path);
    expect(checkMarkers(source, a.diagnostics)).toEqual([]);
    const skipped = parseModelList(source, 'skipped');
    if (skipped) expect(a.skippedModels.slice().sort()).toEqual(skipped.slice().sort());
    const lowered = parseModelList(source, 'lowered');
    if (lowered) for (const m of lowered) expect(a.program.models.map((x) => x.name)).toContain(m);
    // A file whose only findings are warnings lowers every model.
    if (!parseMarkers(source).some((m) => m.severity === 'error')) expect(a.skippedModels).toEqual([]);
  });
});
