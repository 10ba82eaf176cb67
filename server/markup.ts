/**
 * Hover text written once, rendered as Markdown (VS Code) or as plain text that reads well in
 * any editor (clients whose hover `contentFormat` lacks markdown).
 */
import { MarkupKind, type MarkupContent } from 'vscode-languageserver';

export type Span = string | { code: string } | { bold: string } | { italic: string };

export class Markup {
  private readonly blocks: string[][] = [];

  constructor(private readonly markdown: boolean) {}

  private render(parts: readonly Span[]): string {
    return parts
      .map((p) => {
        if (typeof p === 'string') return this.markdown ? escapeMd(p) : p;
        if ('code' in p) return this.markdown ? codeSpan(p.code) : p.code;
        if ('bold' in p) return this.markdown ? `**${escapeMd(p.bold)}**` : p.bold;
        return this.markdown ? `*${escapeMd(p.italic)}*` : p.italic;
      })
      .join('');
  }

  /** A paragraph. */
  para(...parts: Span[]): this {
    this.blocks.push([this.render(parts)]);
    return this;
  }

  /** A bulleted list (one item per entry). */
  list(items: Span[][]): this {
    if (items.length === 0) return this;
    this.blocks.push(items.map((i) => `${this.markdown ? '-' : '•'} ${this.render(i)}`));
    return this;
  }

  /** Lines shown as they are (monospace in Markdown). */
  pre(lines: string[], lang = ''): this {
    if (lines.length === 0) return this;
    if (this.markdown) this.blocks.push(['```' + lang, ...lines, '```']);
    else this.blocks.push(lines.map((l) => `  ${l}`));
    return this;
  }

  rule(): this {
    this.blocks.push([this.markdown ? '---' : '']);
    return this;
  }

  get empty(): boolean {
    return this.blocks.length === 0;
  }

  toString(): string {
    return this.blocks.map((b) => b.join('\n')).join('\n\n');
  }

  content(): MarkupContent {
    return { kind: this.markdown ? MarkupKind.Markdown : MarkupKind.PlainText, value: this.toString() };
  }
}

function escapeMd(s: string): string {
  // Only what would change the text: emphasis, code, HTML, and a link's brackets.
  return s.replace(/([\\`*_<])/g, '\\$1').replace(/\]\(/g, '\\](');
}

function codeSpan(s: string): string {
  const ticks = s.includes('`') ? '``' : '`';
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${s}${pad}${ticks}`;
}

/** 4 significant digits, scientific outside [1e-3, 1e5); a real minus sign. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3).replace(/\.?0+e/, 'e');
  return s.replace(/^-/, '−');
}

/** A relative error: 2 significant digits. */
export function err(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return v >= 1e-2 ? v.toPrecision(2) : v.toExponential(1);
}

export function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '?';
}

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : words}`;
}
