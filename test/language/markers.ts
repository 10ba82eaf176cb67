/**
 * Expectation markers in `.nn` test files, on the line the diagnostic starts on:
 *
 *   y = W @ x      // $error shape-mismatch "[2, 4] @ [3]"
 *   param Q: [3]   // $warning unused-param "'Q' is never used"
 *   h = a + b      // $error shape-mismatch "add" at "a + b"
 *   grad b1 = grad z1  // $info grad-dependent "line 26"
 *
 * Every error and warning must be marked; info and hint diagnostics are checked only where a
 * marker asks for one.
 *
 * `at "TEXT"` asserts the exact source text of the diagnostic's range. Several markers may
 * share a line. A file may also say `// $skipped M1 M2` (exactly these models are not lowered)
 * and `// $lowered M` (M is lowered).
 */
import type { LangDiagnostic } from '../../language/index';

export interface Marker {
  severity: 'error' | 'warning' | 'info' | 'hint';
  code: string;
  text: string;
  at?: string;
  /** 0-based line. */
  line: number;
}

const MARKER = /\$(error|warning|info|hint)\s+([a-z-]+)\s+"((?:[^"\\]|\\.)*)"(?:\s+at\s+"((?:[^"\\]|\\.)*)")?/g;

export function parseMarkers(source: string): Marker[] {
  const out: Marker[] = [];
  source.split(/\r?\n/).forEach((lineText, line) => {
    const i = lineText.indexOf('//');
    if (i < 0) return;
    for (const m of lineText.slice(i).matchAll(MARKER)) {
      out.push({
        severity: m[1] as Marker['severity'],
        code: m[2],
        text: m[3].replace(/\\(.)/g, '$1'),
        at: m[4]?.replace(/\\(.)/g, '$1'),
        line,
      });
    }
  });
  return out;
}

export function parseModelList(source: string, key: 'skipped' | 'lowered'): string[] | undefined {
  const m = new RegExp(`\\$${key}((?:[ \\t]+\\w+)*)`).exec(source);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : undefined;
}

/** The source text of a (single- or multi-line) range. */
export function textOf(source: string, d: LangDiagnostic): string {
  const lines = source.split(/\r?\n/);
  const { start, end } = d.range;
  if (start.line === end.line) return lines[start.line]?.slice(start.character, end.character) ?? '';
  const parts = [lines[start.line].slice(start.character)];
  for (let l = start.line + 1; l < end.line; l++) parts.push(lines[l]);
  parts.push(lines[end.line].slice(0, end.character));
  return parts.join('\n');
}

/** Problems with the markers of a file, as readable lines (empty = all good). */
export function checkMarkers(source: string, diagnostics: LangDiagnostic[]): string[] {
  const markers = parseMarkers(source);
  const problems: string[] = [];
  const used = new Set<LangDiagnostic>();
  const show = (d: LangDiagnostic) =>
    `line ${d.range.start.line + 1}: ${d.severity} ${d.code} "${d.message}" at "${textOf(source, d)}"`;
  for (const m of markers) {
    const hit = diagnostics.find(
      (d) =>
        !used.has(d) &&
        d.range.start.line === m.line &&
        d.severity === m.severity &&
        d.code === m.code &&
        d.message.includes(m.text) &&
        (m.at === undefined || textOf(source, d) === m.at),
    );
    if (hit) used.add(hit);
    else {
      const onLine = diagnostics.filter((d) => d.range.start.line === m.line).map(show);
      problems.push(
        `line ${m.line + 1}: expected ${m.severity} ${m.code} "${m.text}"${m.at ? ` at "${m.at}"` : ''}; ` +
          (onLine.length ? `got ${onLine.join('; ')}` : 'got nothing on that line'),
      );
    }
  }
  for (const d of diagnostics) {
    if (used.has(d) || (d.severity !== 'error' && d.severity !== 'warning')) continue;
    problems.push(`unexpected ${show(d)}`);
  }
  return problems;
}
