/**
 * The layers depend one way (ARCHITECTURE.md): engine ← language ← server ← cli, and the client
 * talks to the server over LSP only, importing nothing of ours but `server/protocol.ts`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(__dirname, '..');
const LAYERS = ['engine', 'language', 'server', 'cli', 'client', 'render', 'debug'] as const;
type Layer = (typeof LAYERS)[number];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'generated' && dir.endsWith('language') ? [] : sources(p);
    return p.endsWith('.ts') && !p.includes(`${join('engine', 'wasm', 'assembly')}`) ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static, dynamic and `require`). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^;'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

/** The layer a relative import lands in, or null for a package. */
function layerOf(file: string, spec: string): Layer | 'other' | null {
  if (!spec.startsWith('.')) return null;
  const target = relative(ROOT, resolve(dirname(file), spec)).split(/[\\/]/)[0];
  return (LAYERS as readonly string[]).includes(target) ? (target as Layer) : 'other';
}

const allowed: Record<Layer, Layer[]> = {
  engine: ['engine'],
  language: ['language', 'engine'],
  server: ['server', 'language', 'engine'],
  cli: ['cli', 'server', 'language', 'engine', 'render'],
  client: ['client', 'render'],
  // the picture: a pure function from a trace to SVG; the engine's types only (see below)
  render: ['render', 'engine'],
  // the debug adapter (nnlens dap): language and the engine's session layer, never the language server
  debug: ['debug', 'language', 'engine'],
};
const forbiddenPackages: Record<Layer, RegExp> = {
  engine: /^(langium|vscode|vscode-languageserver|vscode-languageclient|vscode-jsonrpc)(\/|$)/,
  language: /^(vscode|vscode-languageclient)(\/|$)/,
  server: /^(vscode|vscode-languageclient)(\/|$)/,
  cli: /^(vscode|vscode-languageclient)(\/|$)/,
  client: /^(langium|vscode-languageserver)(\/|$)/,
  render: /^(langium|vscode|vscode-languageserver|vscode-languageclient|vscode-jsonrpc|node:.*|fs|path)(\/|$)/,
  debug: /^(vscode|vscode-languageserver|vscode-languageclient)(\/|$)/,
};

describe('layers depend one way', () => {
  for (const layer of LAYERS) {
    test(`${layer}/ imports only what it may`, () => {
      const problems: string[] = [];
      const files = sources(join(ROOT, layer));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        for (const spec of imports(f)) {
          const target = layerOf(f, spec);
          const where = relative(ROOT, f);
          if (target === null) {
            if (forbiddenPackages[layer].test(spec)) problems.push(`${where} imports the package ${spec}`);
          } else if (target === 'debug' && where === join('cli', 'dap.ts')) {
            // `nnlens dap` starts the debug adapter
          } else if (layer === 'client' && target === 'server') {
            if (!/server\/protocol$/.test(spec.replace(/\.ts$/, ''))) problems.push(`${where} imports ${spec} (only server/protocol)`);
          } else if (target === 'other' || !allowed[layer].includes(target)) {
            problems.push(`${where} imports ${spec}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  }

  test('render/ takes only types from engine/ (the webview bundle carries no engine code)', () => {
    const problems: string[] = [];
    for (const f of sources(join(ROOT, 'render'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(import|export)\s+(type\s+)?[^;'"]*?from\s+['"]([^'"]+)['"]/g)) {
        if (layerOf(f, m[3]) === 'engine' && !m[2]) problems.push(`${relative(ROOT, f)} imports values from ${m[3]}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('server/protocol.ts imports nothing', () => {
    expect(imports(join(ROOT, 'server/protocol.ts'))).toEqual([]);
  });
});
