/**
 * docs/debugging.md's Neovim configuration, in Neovim with nvim-dap: a breakpoint, a step, a
 * continue into the backward pass, evaluate, terminate (test/debug/nvim-dap-check.lua).
 * nvim-dap is not on npm or in Debian: set NNLENS_NVIM_DAP to a checkout of it (0.6.0 runs on
 * Debian's Neovim 0.7.2); without it, or without `nvim`, this is skipped and says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, ROOT, requireBuiltCli } from '../parity/harness';

const plugin = process.env.NNLENS_NVIM_DAP;
const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const reason = nvim.status !== 0 ? 'no nvim on PATH' : !plugin || !existsSync(join(plugin, 'lua', 'dap.lua')) ? 'NNLENS_NVIM_DAP does not point to an nvim-dap checkout' : null;
if (reason) console.warn(`nvim-dap test SKIPPED: ${reason}`);

describe.skipIf(reason !== null)(`nvim-dap drives nnlens dap (${nvim.stdout?.split('\n')[0] ?? ''})`, () => {
  test('the configuration of docs/debugging.md: breakpoint, step, continue into the backward pass, evaluate', () => {
    requireBuiltCli();
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-nvim-'));
    mkdirSync(join(dir, 'pack', 'dap', 'start'), { recursive: true });
    symlinkSync(plugin!, join(dir, 'pack', 'dap', 'start', 'nvim-dap'));
    const out = join(dir, 'out.txt');
    const r = spawnSync('nvim', ['--headless', '-u', 'NONE', '--cmd', `set packpath+=${dir}`, '-c', 'packloadall', '-c', `luafile ${join(__dirname, 'nvim-dap-check.lua')}`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, NNLENS_CLI: CLI, NNLENS_FILE: join(ROOT, 'examples/digits.nn'), NNLENS_OUT: out },
    });
    const said = existsSync(out) ? readFileSync(out, 'utf8') : `${r.stdout}\n${r.stderr}`;
    expect(r.status, said).toBe(0);
    const lines = said.split('\n');
    expect(lines.filter((l) => l.startsWith('stopped'))).toEqual([
      'stopped (breakpoint) at line 17: forward: z2 = W2 @ a1 + b2',
      'stopped (step) at line 18: forward: y = softmax(z2)',
      'stopped (breakpoint) at line 17: backward: grad z2 → W2, a1, b2',
    ]);
    expect(said).toMatch(/evaluate W2 @ a1 \+ b2: \[10\] \[-0\.295885, /);
    expect(said).toContain('terminated');
  });
});
