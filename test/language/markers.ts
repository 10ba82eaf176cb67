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
 *
 * Absence markers state that a line is clean, where that is the point (info and hint
 * diagnostics are otherwise not checked):
 *
 *   grad b2 = grad z2         // $clean               no diagnostic at all starts on this line
 *   h = elu(W @ x)            // $no hint             no hint starts on this line
 *   h = elu(W @ x)            // $no hint grad-kink   no grad-kink hint starts on this line
 */
import { CODE_INFO } from '../../engine/codes';
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
const ABSENCE = /\$(?:clean\b|no\s+(error|warning|info|hint)\b(?:\s+([a-z][a-z-]*))?)/g;

/** "No diagnostic of this severity (any when undefined) and code (any when undefined) starts on this line." */
export interface Absence {
  severity?: Marker['severity'];
  code?: string;
  /** 0-based line. */
  line: number;
}

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

export function parseAbsences(source: string): Absence[] {
  const out: Absence[] = [];
  source.split(/\r?\n/).forEach((lineText, line) => {
    const i = lineText.indexOf('//');
    if (i < 0) return;
    for (const m of lineText.slice(i).matchAll(ABSENCE)) {
      out.push({ severity: m[1] as Marker['severity'] | undefined, code: m[2], line });
    }
  });
  return out;
}

function describeAbsence(a: Absence): string {
  if (!a.severity) return 'no diagnostic ($clean)';
  return `no ${a.severity}${a.code ? ` ${a.code}` : ''}`;
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
  const reported = new Set<LangDiagnostic>();
  for (const a of parseAbsences(source)) {
    const what = describeAbsence(a);
    if (a.code !== undefined && !Object.hasOwn(CODE_INFO, a.code)) {
      problems.push(`line ${a.line + 1}: '${a.code}' in '$no ${a.severity} ${a.code}' is not a diagnostic code`);
      continue;
    }
    const contradicted = markers.find((m) => m.line === a.line && (!a.severity || m.severity === a.severity) && (!a.code || m.code === a.code));
    if (contradicted) {
      problems.push(`line ${a.line + 1}: expects ${what} and a ${contradicted.severity} ${contradicted.code} at once`);
      continue;
    }
    const hits = diagnostics.filter(
      (d) => d.range.start.line === a.line && (!a.severity || d.severity === a.severity) && (!a.code || d.code === a.code),
    );
    for (const d of hits) {
      if (reported.has(d)) continue;
      reported.add(d);
      problems.push(`line ${a.line + 1}: expected ${what}; got ${show(d)}`);
    }
  }
  for (const d of diagnostics) {
    if (used.has(d) || reported.has(d) || (d.severity !== 'error' && d.severity !== 'warning')) continue;
    problems.push(`unexpected ${show(d)}`);
  }
  return problems;
}
