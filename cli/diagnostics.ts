/** Diagnostics as the CLI prints them: 1-based positions, as text or as §8's JSON. */
import type { Finding, Range } from '../engine';
import type { LangDiagnostic } from '../language';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface CliDiagnostic {
  severity: Severity;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  code: string;
  message: string;
}

export function toCliDiagnostic(d: LangDiagnostic | Finding): CliDiagnostic {
  const r: Range = d.range;
  return {
    severity: d.severity,
    line: r.start.line + 1,
    column: r.start.character + 1,
    endLine: r.end.line + 1,
    endColumn: r.end.character + 1,
    code: d.code,
    message: d.message,
  };
}

export function sortDiagnostics(ds: CliDiagnostic[]): CliDiagnostic[] {
  return ds.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

const COLOURS: Record<Severity, string> = { error: '31', warning: '33', info: '36', hint: '90' };

/** `file:line:col - error code: message`, coloured on a terminal. */
export function formatDiagnostic(file: string, d: CliDiagnostic, colour: boolean): string {
  const sev = colour ? `\x1b[${COLOURS[d.severity]}m${d.severity}\x1b[0m` : d.severity;
  const code = colour ? `\x1b[90m${d.code}\x1b[0m` : d.code;
  return `${file}:${d.line}:${d.column} - ${sev} ${code}: ${d.message}`;
}

export function countBySeverity(ds: readonly CliDiagnostic[]): Record<Severity, number> {
  const c: Record<Severity, number> = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const d of ds) c[d.severity]++;
  return c;
}
