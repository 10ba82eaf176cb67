/**
 * The picture of a trace, as SVG text: `renderTrace(traceData, opts)`. Pure (no DOM, no vscode,
 * no engine code: it imports only the trace's types), so the Backprop view's webview bundle and
 * `nnlens graph` draw the same picture.
 */
export { renderTrace, levelOf, neuronLevel, scalesOf, type Level, type RenderOptions, type Scales } from './picture';
export { heatmapCells, heatmapLayout, gridOf, indexText, type HeatmapLayout } from './heatmap';
export { THEME_DEFAULTS, fillOf, strokeOf, level, levelColor, styleSheet, styleRules, type ThemeVariable } from './colors';
export { fmt } from './svg';
