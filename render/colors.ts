/**
 * The picture's colours: a diverging scale (negative ↔ 0 ↔ positive) in 2·STEPS + 1 classes,
 * and a few named colours, all CSS variables with defaults for a standalone SVG on white.
 *
 * Every coloured shape carries both a presentation attribute (the default colour, for viewers
 * without CSS) and a class (`f3`, `sn2`, …) whose rule mixes the theme's variables:
 *   .fp3 { fill: color-mix(in srgb, var(--nn-pos, #…) 37.5%, var(--nn-zero, #…)) }
 * so the Backprop view maps the scale to the VS Code theme by setting `--nn-pos`, `--nn-neg`,
 * `--nn-zero`, `--nn-fg`, … on its body.
 */

export const STEPS = 8;

/** The CSS variables the picture reads, with their standalone defaults. */
export const THEME_DEFAULTS = {
  '--nn-pos': '#1a73e8',
  '--nn-neg': '#e8710a',
  '--nn-zero': '#f1f3f4',
  '--nn-nan': '#d01c8b',
  '--nn-fg': '#1f1f1f',
  '--nn-muted': '#70757a',
  '--nn-bg': '#ffffff',
  '--nn-panel': '#f8f9fa',
  '--nn-border': '#c4c7c5',
  '--nn-edge': '#9aa0a6',
  '--nn-accent': '#0b57d0',
  '--nn-error': '#d93025',
  '--nn-warning': '#b06000',
  '--nn-font': 'system-ui, -apple-system, "Segoe UI", sans-serif',
} as const;

export type ThemeVariable = keyof typeof THEME_DEFAULTS;

export function cssVar(name: ThemeVariable): string {
  return `var(${name}, ${THEME_DEFAULTS[name]})`;
}

function hex(c: string): [number, number, number] {
  const n = parseInt(c.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(a: string, b: string, t: number): string {
  const x = hex(a);
  const y = hex(b);
  return `#${x.map((v, i) => Math.round(v * t + y[i] * (1 - t)).toString(16).padStart(2, '0')).join('')}`;
}

/** The class suffix of a level: n8 … n1, 0, p1 … p8. */
export function levelName(level: number): string {
  return level === 0 ? '0' : level < 0 ? `n${-level}` : `p${level}`;
}

/** The level of a number on a symmetric scale [-scale, scale]: -STEPS … STEPS; null for NaN/∞. */
export function level(v: number | null, scale: number): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  const s = scale > 0 ? scale : 1;
  return Math.round(Math.max(-1, Math.min(1, v / s)) * STEPS);
}

/** The default (standalone) colour of a level. */
export function levelColor(l: number | null): string {
  if (l === null) return THEME_DEFAULTS['--nn-nan'];
  const end = l < 0 ? THEME_DEFAULTS['--nn-neg'] : THEME_DEFAULTS['--nn-pos'];
  return mix(end, THEME_DEFAULTS['--nn-zero'], Math.abs(l) / STEPS);
}

/** Attributes that fill (or stroke) a shape with the colour of a number. */
export function fillOf(v: number | null, scale: number): { fill: string; class: string } {
  const l = level(v, scale);
  return { fill: levelColor(l), class: l === null ? 'fnan' : `f${levelName(l)}` };
}

export function strokeOf(v: number | null, scale: number): { stroke: string; class: string } {
  const l = level(v, scale);
  return { stroke: levelColor(l), class: l === null ? 'snan' : `s${levelName(l)}` };
}

/** The `<style>` of a picture: the scale's classes and the named colours. */
export function styleSheet(): string {
  return `<style>${styleRules()}</style>`;
}

/** The CSS rules of `styleSheet()`, without the element. */
export function styleRules(): string {
  const rules: string[] = [];
  for (let l = -STEPS; l <= STEPS; l++) {
    const name = levelName(l);
    const pct = `${(Math.abs(l) / STEPS) * 100}%`;
    const end = l < 0 ? cssVar('--nn-neg') : cssVar('--nn-pos');
    const mixed = `color-mix(in srgb, ${end} ${pct}, ${cssVar('--nn-zero')})`;
    rules.push(`.f${name}{fill:${levelColor(l)};fill:${mixed}}`, `.s${name}{stroke:${levelColor(l)};stroke:${mixed}}`);
  }
  rules.push(
    `.fnan{fill:${cssVar('--nn-nan')}}`,
    `.snan{stroke:${cssVar('--nn-nan')}}`,
    `.nn-svg{font-family:${cssVar('--nn-font')};font-size:11px;fill:${cssVar('--nn-fg')}}`,
    `.nn-svg text{fill:${cssVar('--nn-fg')}}`,
    `.nn-svg .nn-muted,.nn-svg text.nn-muted{fill:${cssVar('--nn-muted')}}`,
    `.nn-svg .nn-bgrect{fill:${cssVar('--nn-bg')}}`,
    `.nn-svg .nn-box{fill:${cssVar('--nn-panel')};stroke:${cssVar('--nn-border')}}`,
    `.nn-svg .nn-link{stroke:${cssVar('--nn-edge')};fill:none}`,
    `.nn-svg .nn-arrowhead{fill:${cssVar('--nn-edge')}}`,
    `.nn-svg .nn-amp-shape{fill:${cssVar('--nn-bg')};stroke:${cssVar('--nn-warning')}}`,
    `.nn-svg text.nn-amp-text{fill:${cssVar('--nn-warning')}}`,
    `.nn-svg .nn-unit{stroke:${cssVar('--nn-border')}}`,
    `.nn-svg .nn-wrong>.nn-box,.nn-svg .nn-wrong>.nn-outline{stroke:${cssVar('--nn-error')};stroke-width:3}`,
    `.nn-svg .nn-dependent>.nn-box,.nn-svg .nn-dependent>.nn-outline{stroke:${cssVar('--nn-warning')};stroke-width:2;stroke-dasharray:5 3}`,
    `.nn-svg text.nn-error{fill:${cssVar('--nn-error')}}`,
    `.nn-svg text.nn-section{font-weight:600;font-size:13px}`,
    `.nn-svg text.nn-name{font-weight:600}`,
    `.nn-svg .nn-outline{fill:none;stroke:none}`,
  );
  return rules.join('');
}
