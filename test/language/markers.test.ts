/** The case runner's marker checking must catch what it is meant to catch. */
import { describe, expect, test } from 'vitest';
import type { LangDiagnostic } from '../../language/index';
import { checkMarkers, parseAbsences, parseMarkers, parseModelList } from './markers';

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

  const CLEAN = [
    'model M {',
    '  h = relu(z)      // $no hint grad-kink',
    '  y = W @ h        // $clean',
    '  grad b = y       // $no info',
    '  grad c = y       // $error grad-mismatch "wrong" $no hint',
    '}',
  ].join('\n');
  const wrong = diag(4, 2, 14, 'grad-mismatch', 'grad c is wrong');

  test('absence markers: $clean, $no SEVERITY, $no SEVERITY CODE', () => {
    expect(parseAbsences(CLEAN)).toEqual([
      { severity: 'hint', code: 'grad-kink', line: 1 },
      { severity: undefined, code: undefined, line: 2 },
      { severity: 'info', code: undefined, line: 3 },
      { severity: 'hint', code: undefined, line: 4 },
    ]);
    expect(checkMarkers(CLEAN, [wrong])).toEqual([]);
    // diagnostics elsewhere, or of another severity or code, do not count
    expect(checkMarkers(CLEAN, [wrong, diag(1, 2, 9, 'dead-relu', 'dead', 'hint'), diag(3, 2, 8, 'x', 'w', 'hint')])).toEqual([]);
  });

  test('a diagnostic on a line marked clean is reported, once, whatever its severity', () => {
    expect(checkMarkers(CLEAN, [wrong, diag(1, 2, 9, 'grad-kink', 'relu kink', 'hint')])).toEqual([
      'line 2: expected no hint grad-kink; got line 2: hint grad-kink "relu kink" at "h = rel"',
    ]);
    expect(checkMarkers(CLEAN, [wrong, diag(2, 2, 5, 'anything', 'an info', 'info')])).toHaveLength(1);
    expect(checkMarkers(CLEAN, [wrong, diag(2, 2, 5, 'anything', 'an error')])).toHaveLength(1);
    expect(checkMarkers(CLEAN, [wrong, diag(3, 2, 5, 'grad-dependent', 'uses grad z', 'info')])).toHaveLength(1);
    expect(checkMarkers(CLEAN, [wrong, diag(4, 2, 5, 'grad-kink', 'k', 'hint')])).toHaveLength(1);
  });

  test('absence markers that contradict a marker, or name no code, are reported', () => {
    expect(checkMarkers('x = 1 // $error cycle "c" $no error\n', [diag(0, 0, 1, 'cycle', 'c')])).toHaveLength(1);
    expect(checkMarkers('x = 1 // $no hint kinky\n', [])).toEqual([
      "line 1: 'kinky' in '$no hint kinky' is not a diagnostic code",
    ]);
  });
});
