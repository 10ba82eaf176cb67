/** The case runner's marker checking must catch what it is meant to catch. */
import { describe, expect, test } from 'vitest';
import type { LangDiagnostic } from '../../language/index';
import { checkMarkers, parseMarkers, parseModelList } from './markers';

const diag = (line: number, from: number, to: number, code: string, message: string, severity: LangDiagnostic['severity'] = 'error'): LangDiagnostic => ({
  severity,
  code,
  message,
  range: { start: { line, character: from }, end: { line, character: to } },
});

const SRC = ['model M {', '  y = W @ x   // $error shape-mismatch "[2, 4] @ [3]" at "W @ x"', '}', '// $skipped M N'].join('\n');

describe('markers', () => {
  test('parses markers with code, text and range text', () => {
    expect(parseMarkers(SRC)).toEqual([{ severity: 'error', code: 'shape-mismatch', text: '[2, 4] @ [3]', at: 'W @ x', line: 1 }]);
    expect(parseModelList(SRC, 'skipped')).toEqual(['M', 'N']);
    expect(parseModelList(SRC, 'lowered')).toBeUndefined();
  });

  test('a matching diagnostic satisfies the marker', () => {
    expect(checkMarkers(SRC, [diag(1, 6, 11, 'shape-mismatch', 'matmul [2, 4] @ [3]: …')])).toEqual([]);
  });

  test('a missing diagnostic, a wrong line, code, text or range is reported', () => {
    expect(checkMarkers(SRC, [])).toHaveLength(1);
    expect(checkMarkers(SRC, [diag(0, 6, 11, 'shape-mismatch', '[2, 4] @ [3]')])).toHaveLength(2);
    expect(checkMarkers(SRC, [diag(1, 6, 11, 'other', '[2, 4] @ [3]')])).toHaveLength(2);
    expect(checkMarkers(SRC, [diag(1, 6, 11, 'shape-mismatch', '[2, 5] @ [3]')])).toHaveLength(2);
    expect(checkMarkers(SRC, [diag(1, 2, 11, 'shape-mismatch', '[2, 4] @ [3]')])).toHaveLength(2);
    expect(checkMarkers(SRC, [diag(1, 6, 11, 'shape-mismatch', '[2, 4] @ [3]', 'warning')])).toHaveLength(2);
  });

  test('an unmarked error or warning is reported; hints are not', () => {
    const ok = diag(1, 6, 11, 'shape-mismatch', '[2, 4] @ [3]');
    expect(checkMarkers(SRC, [ok, diag(2, 0, 1, 'x', 'extra')])).toHaveLength(1);
    expect(checkMarkers(SRC, [ok, diag(2, 0, 1, 'x', 'extra', 'warning')])).toHaveLength(1);
    expect(checkMarkers(SRC, [ok, diag(2, 0, 1, 'x', 'extra', 'hint')])).toEqual([]);
  });
});
