/**
 * The layers depend one way (ARCHITECTURE.md): engine ← language ← server ← cli, and the client
 * talks to the server over LSP only, importing nothing of ours but `server/protocol.ts` (and the
 * pure renderer in render/). Within the layers:
 * - cli/ imports server/ only to start the language server (cli/lsp.ts) and the debug adapter
 *   (cli/dap.ts); `nnlens check` and `nnlens train` use the engine's session layer;
 * - engine/session/ is part of the engine: it imports nothing outside engine/;
 * - render/ (trace → SVG) imports the engine's types only (`import type`), no editor API, no DOM
 *   library of ours.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(__dirname, '..');
const LAYERS = ['engine', 'language', 'server', 'cli', 'client', 'render', 'debug'] as const;
type Layer = (typeof LAYERS)[number];

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'generated' && dir.endsWith('language') ? [] : sources(p);
    return p.endsWith('.ts') && !p.includes(`${join('engine', 'wasm', 'assembly')}`) ? [p] : [];
  });
}

interface Import {
  spec: string;
  /** `import type …` / `export type …`: erased by the compiler, no dependency at run time. */
  typeOnly: boolean;
}

/** Every module specifier a file imports or re-exports (static, dynamic and `require`). */
function imports(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /(?:import|export)\s([^;'"]*?)from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    if (m[2] !== undefined) out.push({ spec: m[2], typeOnly: /^type\s/.test(m[1]) });
    else out.push({ spec: m[3] ?? m[4], typeOnly: false });
  }
  return out;
}

/** The top folder a relative import lands in ('other' outside the layers), or null for a package. */
function layerOf(file: string, spec: string): Layer | 'other' | null {
  if (!spec.startsWith('.')) return null;
  const target = relative(ROOT, resolve(dirname(file), spec)).split(/[\\/]/)[0];
  return (LAYERS as readonly string[]).includes(target) ? (target as Layer) : 'other';
}

/** The path (from the root, without extension) a relative import lands on. */
const targetPath = (file: string, spec: string) => relative(ROOT, resolve(dirname(file), spec)).split(/[\\/]/).join('/').replace(/\.(ts|js)$/, '');
const where = (file: string) => relative(ROOT, file).split(/[\\/]/).join('/');

const allowed: Record<Layer, Layer[]> = {
  engine: ['engine'],
  language: ['language', 'engine'],
  server: ['server', 'language', 'engine'],
  cli: ['cli', 'server', 'language', 'engine', 'render'],
  client: ['client', 'server', 'render'],
  render: ['render', 'engine'],
  // the debug adapter (nnlens dap): language and the engine's session layer, never the language server
  debug: ['debug', 'language', 'engine'],
};
const EDITOR_API = /^(vscode|vscode-languageclient)(\/|$)/;
const forbiddenPackages: Record<Layer, RegExp> = {
  engine: /^(langium|vscode|vscode-languageserver|vscode-languageclient|vscode-jsonrpc)(\/|$)/,
  language: EDITOR_API,
  server: EDITOR_API,
  cli: EDITOR_API,
  client: /^(langium|vscode-languageserver)(\/|$)/,
  render: /^(langium|vscode|vscode-languageserver|vscode-languageclient|vscode-jsonrpc|node:.*|fs|path)(\/|$)/,
  debug: /^(vscode|vscode-languageserver|vscode-languageclient)(\/|$)/,
};

/** Which files of a layer may import server/ (and which of server/). */
function serverImportAllowed(layer: Layer, file: string, target: string): boolean {
  if (layer === 'client') return target === 'server/protocol';
  if (layer === 'cli') return /^cli\/(lsp|dap)\.ts$/.test(where(file));
  return true;
}

describe('layers depend one way', () => {
  for (const layer of LAYERS) {
    test(`${layer}/ imports only what it may`, () => {
      const problems: string[] = [];
      const files = sources(join(ROOT, layer));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        for (const { spec, typeOnly } of imports(f)) {
          const target = layerOf(f, spec);
          if (target === null) {
            if (forbiddenPackages[layer].test(spec)) problems.push(`${where(f)} imports the package ${spec}`);
          } else if (target === 'debug' && where(f) === 'cli/dap.ts') {
            // `nnlens dap` starts the debug adapter (debug/ is no layer cli/ may otherwise import)
          } else if (target === 'other' || !allowed[layer].includes(target)) {
            problems.push(`${where(f)} imports ${spec}`);
          } else if (target === 'server' && layer !== 'server' && !serverImportAllowed(layer, f, targetPath(f, spec))) {
            problems.push(`${where(f)} imports ${spec} (${layer === 'client' ? 'only server/protocol' : 'only cli/lsp.ts and cli/dap.ts may import server/'})`);
          } else if (layer === 'render' && target === 'engine' && !typeOnly) {
            problems.push(`${where(f)} imports ${spec} for more than its types (render/ uses 'import type' from engine/)`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  }

  test('cli/ uses the engine session layer, not server/, for check and train', () => {
    const offenders = sources(join(ROOT, 'cli'))
      .filter((f) => imports(f).some(({ spec }) => layerOf(f, spec) === 'server'))
      .map(where);
    for (const f of offenders) expect(f).toMatch(/^cli\/(lsp|dap)\.ts$/);
    expect(offenders).toContain('cli/lsp.ts');
  });

  test('engine/session/ imports nothing outside engine/ but Node built-ins', () => {
    const files = sources(join(ROOT, 'engine', 'session'));
    expect(files.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const f of files) {
      for (const { spec } of imports(f)) {
        const ok = spec.startsWith('node:') || (spec.startsWith('.') && targetPath(f, spec).startsWith('engine/'));
        if (!ok) problems.push(`${where(f)} imports ${spec}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('server/protocol.ts imports nothing', () => {
    expect(imports(join(ROOT, 'server/protocol.ts'))).toEqual([]);
  });
});
