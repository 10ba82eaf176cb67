// End-to-end: the packaged extension in a real VS Code (code-server 4.100.3 = VS Code 1.100.3)
// driven through headless Chromium, asserting what a person sees. Run with `npm run test:e2e`,
// which installs code-server (scripts/install-vscode.sh) and packages the .vsix first.
//
// Screenshots of every step go to test-results/e2e/, with code-server's logs (including the
// "NN Lens" output channel) under test-results/e2e/logs/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {} from '../../client/backprop/main';

const root = resolve(__dirname, '../..');
const results = join(root, 'test-results', 'e2e');
const cache = process.env.NNLENS_VSCODE_CACHE ?? join(homedir(), '.cache', 'nnlens-vscode');
const codeServer = join(cache, 'node_modules', '.bin', 'code-server');
const vsix = process.env.NNLENS_E2E_VSIX ?? join(root, 'nnlens.vsix');
const CHROMIUM = '/usr/bin/chromium';
/** How long to wait for the language server's findings (it parses, checks shapes and gradients). */
const SERVER_WAIT = 90_000;

let server: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let base = '';
let tmp = '';
let ws = '';
let userData = '';
let step = 0;
/** Set when the installed extension has no language server: the steps that need it fail at once. */
let noServer = '';

function needsServer(): void {
  if (noServer) throw new Error(noServer);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`code-server did not answer ${url} (${last})`);
}

async function shot(name: string): Promise<void> {
  step++;
  await page.screenshot({ path: join(results, `${String(step).padStart(2, '0')}-${name}.png`) });
}

/** F1, type a command's title, run it. Right after start-up the extensions' commands are not
 * registered yet and the palette's list does not refresh by itself: reopen it until they are. */
async function runCommand(title: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    // The filtered list's focused (first) row must be the command, not a stale list's row.
    const row = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title });
    try {
      await row.waitFor({ state: 'visible', timeout: 5_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (err) {
      if (Date.now() > end) throw new Error(`the command palette has no "${title}": ${(err as Error).message}`);
    }
  }
}

/** Ctrl+P, a file name, Enter, in the first editor group; waits for its editor. */
async function openFile(name: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+1');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator(`.editor-group-container.active .tab.active[data-resource-name="${name}"]`).waitFor({ timeout: 30_000 });
  await activeEditor().locator('.view-lines').waitFor();
}

/** The editor of the active group. */
function activeEditor() {
  return page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
}

/** The editor line (a `.view-line`) whose text contains `text`. */
function line(text: string) {
  return activeEditor().locator('.view-lines .view-line', { hasText: text }).first();
}

/** The loss panel's inner frame (webviews nest two iframes), once its script has loaded. */
async function lossFrame(timeoutMs = 60_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate(() => typeof (window as { __nnlensChart?: unknown }).__nnlensChart !== 'undefined')) return f;
      } catch { /* a frame that is navigating or cross-origin: try the others */ }
    }
    await page.waitForTimeout(500);
  }
  throw new Error('no loss panel webview with a chart appeared');
}

/** A screenshot of an editor tab's group maximized (Ctrl+K Ctrl+M) without the side bar (Ctrl+B)
 * and the panel (Ctrl+J), then everything back as it was. */
async function maximizedShot(tab: string, name: string): Promise<void> {
  const toggle = async () => {
    await page.locator('.tab', { hasText: tab }).click();
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+M');
    await page.keyboard.press('Control+B');
    await page.keyboard.press('Control+J');
  };
  await toggle();
  await page.waitForTimeout(1_500);
  await shot(name);
  await toggle();
  await page.waitForTimeout(500);
}

/** The Backprop view's inner frame, once its script has loaded. */
async function backpropFrame(timeoutMs = 60_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate(() => typeof window.__nnlensBackprop !== 'undefined')) return f;
      } catch { /* a frame that is navigating or cross-origin: try the others */ }
    }
    await page.waitForTimeout(500);
  }
  throw new Error('no Backprop view webview appeared');
}

interface ChartState {
  runs: { model: string; status: string; points: number; label: string }[];
  x: number;
  series: { label: string; metric: string; raw: boolean; length: number; last: number | null }[];
}
async function chartState(f: Frame): Promise<ChartState> {
  return f.evaluate(() => {
    const c = (window as unknown as { __nnlensChart: {
      runs(): ChartState['runs'];
      x(): number[];
      series(): (ChartState['series'][number] & { values: unknown })[];
    } }).__nnlensChart;
    return {
      runs: c.runs(),
      x: c.x().length,
      series: c.series().map(({ label, metric, raw, length, last }) => ({ label, metric, raw, length, last })),
    };
  });
}

/** Problems panel rows (Ctrl+Shift+M), as text. */
async function problems(): Promise<string[]> {
  return page.locator('.markers-panel .monaco-list-row').allInnerTexts();
}


const hasChromium = existsSync(CHROMIUM);

/**
 * Installs the .vsix into a fresh code-server, starts it on a free loopback port and opens a copy
 * of test/e2e/workspace/ in Chromium. `trusted: false` turns workspace trust on without trusting
 * the folder, so VS Code opens it in Restricted Mode.
 */
async function launch(name: string, trusted: boolean): Promise<void> {
  if (!hasChromium) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it).`);
  if (!existsSync(codeServer)) throw new Error(`code-server is not installed in ${cache}: run scripts/install-vscode.sh (npm run test:e2e does).`);
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run npm run package (npm run test:e2e does).`);
  mkdirSync(results, { recursive: true });

  tmp = mkdtempSync(join(tmpdir(), `nnlens-e2e-${name}-`));
  userData = join(tmp, 'user-data');
  const extensions = join(tmp, 'extensions');
  ws = join(tmp, 'workspace');
  cpSync(join(__dirname, 'workspace'), ws, { recursive: true });
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({
    'security.workspace.trust.enabled': !trusted,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'workbench.startupEditor': 'none',
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'editor.minimap.enabled': false,
    'chat.commandCenter.enabled': false,
    'update.mode': 'none',
  }, null, 2));

  const install = spawnSync(codeServer, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], { encoding: 'utf8' });
  const said = `${install.stdout}\n${install.stderr}`;
  writeFileSync(join(results, `install-extension-${name}.log`), said);
  if (install.status !== 0 || !/successfully installed/i.test(said)) throw new Error(`installing the .vsix failed:\n${said}`);
  const installed = readdirSync(extensions).find((d) => d.startsWith('nnlens.nnlens-'));
  if (!installed) throw new Error(`the extension is not in ${extensions}: ${readdirSync(extensions).join(', ')}`);
  if (!existsSync(join(extensions, installed, 'out', 'server.js'))) {
    noServer = 'The packaged extension has no out/server.js: the language server is not built yet (server/main.ts), '
      + 'so this step cannot pass.';
    console.warn(`[e2e] ${noServer}`);
  }

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const out = openSync(join(results, `code-server-${name}.log`), 'w');
  server = spawn(codeServer, [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    ...(trusted ? ['--disable-workspace-trust'] : []), '--user-data-dir', userData, '--extensions-dir', extensions, ws,
  ], { detached: true, stdio: ['ignore', out, out] });
  await waitForHttp(`${base}/healthz`, 60_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${base}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  // Let the workbench settle (extension host up, explorer populated).
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'train.nn' }).waitFor({ timeout: 120_000 });
}

async function shutdown(name: string): Promise<void> {
  try { if (page) await shot('final'); } catch { /* the page may be gone */ }
  await browser?.close();
  browser = undefined;
  if (server?.pid) {
    try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  server = undefined;
  const logs = join(userData, 'logs');
  if (existsSync(logs)) cpSync(logs, join(results, `logs-${name}`), { recursive: true });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}


/** A failed step leaves a screenshot of what was on the screen. */
function screenshotOnFailure(): void {
  beforeEach((ctx) => {
    ctx.onTestFailed(async () => {
      try { await shot(`FAILED-${ctx.task.name.replace(/[^\w]+/g, '-').slice(0, 60)}`); } catch { /* no page */ }
    });
  });
}

describe('NN Lens in VS Code (code-server)', () => {
  screenshotOnFailure();

  beforeAll(async () => {
    rmSync(results, { recursive: true, force: true });
    await launch('trusted', true);
  });

  afterAll(() => shutdown('trusted'));

  // ---------------------------------------------------------------------------------------------
  // Without the language server: the extension itself.

  it('opens a .nn file as NN, activates the extension and colours the code', async () => {
    await openFile('xor.nn');
    await expect.poll(() => page.locator('#status\\.editor\\.mode').innerText(), { timeout: 30_000 }).toBe('NN');

    // Colouring from the TextMate grammar: keywords, names, functions, numbers and comments
    // are drawn in different colours.
    const colour = async (lineText: string, token: string) => line(lineText).locator('span > span', { hasText: new RegExp(`^\\s*${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) })
      .first().evaluate((e) => getComputedStyle(e).color);
    const c = {
      keyword: await colour('model Xor', 'model'),
      model: await colour('model Xor', 'Xor'),
      builtin: await colour('a1 = tanh', 'tanh'),
      number: await colour('lr: 0.05', '0.05'),
      comment: await line('smallest network').locator('span > span', { hasText: 'smallest network' }).first().evaluate((e) => getComputedStyle(e).color),
      plain: await colour('a1 = tanh', '='),
    };
    expect(new Set(Object.values(c)).size).toBeGreaterThanOrEqual(5);
    expect(c.keyword).not.toBe(c.model);
    await shot('xor-coloured');

    // Activation: the extension's output channel says it started.
    await runCommand('NN Lens: Show Output');
    await expect.poll(async () => (await page.locator('.panel .monaco-editor .view-lines').first().innerText()).replace(/\s+/g, ' '), { timeout: 60_000 })
      .toContain('NN Lens 0.1.0 activating');
    await shot('output-activated');
  });

  it('lists the NN Lens commands in the command palette', async () => {
    await openFile('train.nn');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill('>NN Lens:');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'NN Lens: Train Model' }).waitFor();
    const labels = await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    const titles = labels.map((l) => l.replace(/\s+/g, ' ').trim());
    for (const t of ['NN Lens: Train Model', 'NN Lens: Check Gradients (full)', 'NN Lens: Show Loss Panel', 'NN Lens: Open Training Log…', 'NN Lens: Show Backprop']) {
      expect(titles).toContain(t);
    }
    // "Stop Training" only shows while a run is live.
    expect(titles).not.toContain('NN Lens: Stop Training');
    await shot('command-palette');
    await page.keyboard.press('Escape');

    // The editor title's run button offers Train Model.
    const run = page.locator('.editor-actions .action-item a[aria-label*="Train Model"], .editor-actions .action-item a[aria-label*="Run or Debug"]').first();
    await expect.poll(() => run.count()).toBeGreaterThan(0);
  });

  it('opens the loss panel for a training log and draws its points as the log grows', async () => {
    const log = join(ws, 'ring-run.jsonl');
    const lossAt = (s: number) => 0.7 * Math.exp(-s / 60) + 0.05;
    const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_v, i) => {
      const s = from + i;
      return JSON.stringify({ epoch: Math.ceil(s / 10), step: s, loss: lossAt(s), valLoss: s % 10 === 0 ? lossAt(s) + 0.02 : null, accuracy: null });
    }).join('\n') + '\n';
    writeFileSync(log, lines(1, 40));

    await runCommand('NN Lens: Open Training Log…');
    // VS Code's own file dialog (a quick input holding a path): type the log's path.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    // The dialog starts in the workspace folder; once it shows it, type the log's path.
    await expect.poll(() => input.inputValue(), { timeout: 30_000 }).toMatch(/workspace\/$/);
    await input.fill(log);
    await expect.poll(() => input.inputValue()).toBe(log);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ring-run.jsonl' }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');

    await page.locator('.tab', { hasText: 'Loss — ring-run' }).waitFor({ timeout: 60_000 });
    const frame = await lossFrame();
    await expect.poll(async () => (await chartState(frame)).x, { timeout: 30_000 }).toBe(40);
    await shot('log-40-points');

    // The log grows: the chart follows.
    for (let k = 0; k < 6; k++) {
      appendFileSync(log, lines(41 + 20 * k, 60 + 20 * k));
      await page.waitForTimeout(400);
    }
    await expect.poll(async () => (await chartState(frame)).x, { timeout: 30_000 }).toBe(160);
    const s = await chartState(frame);
    const raw = s.series.find((x) => x.metric === 'loss' && x.raw)!;
    expect(raw.length).toBe(160);
    expect(raw.last).toBeCloseTo(lossAt(160), 10);
    expect(s.series.find((x) => x.metric === 'valLoss' && x.raw)!.length).toBe(16);
    expect(s.runs).toEqual([expect.objectContaining({ model: 'ring-run', status: 'running', points: 160 })]);
    await shot('log-160-points');

    // Export CSV: VS Code's save dialog offers the workspace folder; the file holds every sample.
    await frame.locator('#export-csv').click();
    const save = page.locator('.quick-input-widget input');
    await expect.poll(() => save.inputValue(), { timeout: 30_000 }).toBe(join(ws, 'ring-run-loss.csv'));
    await page.keyboard.press('Enter');
    await page.locator('.notifications-toasts .notification-toast', { hasText: 'exported ring-run-loss.csv' }).waitFor({ timeout: 30_000 });
    const csv = readFileSync(join(ws, 'ring-run-loss.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('run,model,started,step,epoch,elapsed_ms,loss,loss_smoothed,val_loss,accuracy');
    expect(csv).toHaveLength(161);
    expect(Number(csv[160].split(',')[6])).toBeCloseTo(lossAt(160), 10);
    await shot('log-exported-csv');

    // The panel's Stop button stops following.
    await frame.locator('#stop').click();
    await expect.poll(async () => (await chartState(frame)).runs[0].status, { timeout: 30_000 }).toBe('ended');
    await shot('log-stopped');
  });

  // ---------------------------------------------------------------------------------------------
  // With the language server (out/server.js).

  it('lists a shape error naming both shapes in the Problems panel (needs the language server)', async () => {
    needsServer();
    await openFile('shapes.nn');
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel').waitFor({ timeout: 30_000 });
    let rows: string[] = [];
    await expect.poll(async () => {
      rows = await problems();
      return rows.some((r) => r.includes('[30, 256]') && r.includes('[100]'));
    }, { timeout: SERVER_WAIT, message: 'a problem naming [30, 256] and [100]' }).toBe(true);
    const row = rows.find((r) => r.includes('[30, 256]') && r.includes('[100]'))!;
    expect(row).toMatch(/Ln 10\b/);
    await shot('problems-shape-error');
  });

  it('shows ∂C/∂W with numbers when hovering a weight (needs the language server)', async () => {
    needsServer();
    await openFile('xor.nn');
    const target = line('param W1').locator('span > span', { hasText: /^W1$/ }).first();
    await expect.poll(async () => {
      await page.mouse.move(5, 5);
      await target.hover();
      try {
        const hover = page.locator('.monaco-editor .monaco-hover:visible').first();
        await hover.waitFor({ state: 'visible', timeout: 5_000 });
        return await hover.innerText();
      } catch {
        return '';
      }
    }, { timeout: SERVER_WAIT, interval: 2_000 }).toMatch(/∂C\s*\/\s*∂\s*W1[\s\S]*\d\.\d/);
    await page.waitForTimeout(500); // let the hover finish fading in for the screenshot
    await shot('hover-gradient');
    await page.mouse.move(5, 5);
  });

  it('trains from the command palette: the loss panel draws points that increase over time (needs the language server)', async () => {
    needsServer();
    await openFile('train.nn');
    await line('h = dense').click();
    await runCommand('NN Lens: Train Model');
    await page.locator('.tab', { hasText: 'Loss — Ring' }).waitFor({ timeout: SERVER_WAIT });
    const frame = await lossFrame();
    const ring = async () => (await chartState(frame)).runs.find((r) => r.model === 'Ring');
    await expect.poll(async () => (await ring())?.points ?? 0, { timeout: SERVER_WAIT }).toBeGreaterThan(0);
    const first = (await ring())!.points;
    await expect.poll(async () => (await ring())?.points ?? 0, { timeout: 60_000 }).toBeGreaterThan(first + 5);
    // the runs' points count on arrival; the chart's series at its next animation frame
    const loss = async () => (await chartState(frame)).series.find((x) => x.label.startsWith('Ring') && x.metric === 'loss' && x.raw);
    await expect.poll(async () => (await loss())?.length ?? 0, { timeout: 30_000 }).toBeGreaterThan(first);
    expect(Number.isFinite((await loss())?.last)).toBe(true);
    // The status bar shows the live run; clicking it is how to get back to the panel.
    const item = page.locator('footer .statusbar-item', { hasText: /Ring: epoch/ });
    await expect.poll(async () => (await item.count()) ? item.first().innerText() : '').toMatch(/Ring: epoch [\d,]+\/1,?000,?000 · loss \d/);
    await shot('training-live');
  });

  it('stops training with "NN Lens: Stop Training" (needs the language server)', async () => {
    needsServer();
    const frame = await lossFrame();
    await runCommand('NN Lens: Stop Training');
    const ring = async () => (await chartState(frame)).runs.find((r) => r.model === 'Ring');
    await expect.poll(async () => (await ring())?.status, { timeout: 60_000 }).toBe('stopped');
    const n = (await ring())!.points;
    await page.waitForTimeout(2_000);
    expect((await ring())!.points).toBe(n);
    await expect.poll(() => page.locator('footer .statusbar-item', { hasText: /Ring: epoch/ }).count()).toBe(0);
    await shot('training-stopped');
  });

  it('shows a wrong grad line as an error on that line (needs the language server)', async () => {
    needsServer();
    await openFile('grad.nn');
    await page.keyboard.press('Control+Shift+M');
    let rows: string[] = [];
    await expect.poll(async () => {
      rows = await problems();
      return rows.some((r) => /Ln 3\b/.test(r) && /grad/i.test(r));
    }, { timeout: SERVER_WAIT, message: 'a problem on line 3 (the grad line) of grad.nn' }).toBe(true);
    // The squiggle is on the grad line itself.
    await expect.poll(() => page.evaluate(() => {
      const lines = Array.from(document.querySelectorAll('.editor-group-container.active .monaco-editor .view-overlays > div'));
      return lines.findIndex((l) => l.querySelector('.squiggly-error') !== null);
    })).toBeGreaterThanOrEqual(0);
    await shot('problems-wrong-grad');
  });

  // ---------------------------------------------------------------------------------------------
  // The Backprop view (issue 10) and the decision boundary.

  it('draws the decision boundary of the 2-D Ring model beside the loss curves (needs the language server)', async () => {
    needsServer();
    const frame = await lossFrame();
    // the run is stopped by now: its first report drew the picture, and the stop's last report drew
    // it again at the weights kept, however soon the stop came (test/train/boundary.test.ts)
    await expect.poll(() => frame.evaluate(() => (window as { __nnlensBoundary?: { draws: number } }).__nnlensBoundary?.draws ?? 0), { timeout: 30_000 }).toBeGreaterThan(1);
    const title = await frame.locator('.nn-boundary-title').innerText();
    expect(title).toMatch(/^Decision boundary — epoch [\d,]+, step [\d,]+$/);
    // the picture is of the weights the run kept: the step the stop message names
    const step = /step ([\d,]+)$/.exec(title)![1];
    expect(await frame.locator('.nn-status').innerText()).toContain(`kept the weights after step ${step}`);
    await shot('loss-panel-decision-boundary');
    await maximizedShot('Loss — Ring', 'loss-panel-decision-boundary-maximized');
  });

  it('"NN Lens: Show Backprop" draws xor at neuron level, steps, and reveals a node’s line (needs the language server)', async () => {
    needsServer();
    await openFile('xor.nn');
    await expect.poll(() => activeEditor().locator('.codelens-decoration', { hasText: '◇ Backprop' }).count(), { timeout: SERVER_WAIT }).toBeGreaterThan(0);
    await line('a1 = tanh').click();
    await runCommand('NN Lens: Show Backprop');
    await page.locator('.tab', { hasText: 'Backprop — Xor' }).waitFor({ timeout: SERVER_WAIT });
    const frame = await backpropFrame();
    await expect.poll(() => frame.evaluate(() => window.__nnlensBackprop!.status()), { timeout: SERVER_WAIT }).toBe('ok');
    expect(await frame.evaluate(() => window.__nnlensBackprop!.level())).toBe('neuron');
    expect(await frame.locator('#picture .nn-forward .nn-node').count()).toBe(5);
    await shot('backprop-xor-neuron');
    // the example picker: example 3 is the row [1, 0] of xor()
    await frame.locator('#example').fill('3');
    await frame.locator('#example').press('Enter');
    await expect.poll(() => frame.locator('.nn-status').innerText(), { timeout: 30_000 }).toMatch(/^example 3 of 4 \(data xor\)/);
    expect(await frame.evaluate(() => window.__nnlensBackprop!.trace()!.nodes[0].value)).toEqual([1, 0]);
    // ▶ the first forward op lights up a1, and its line is highlighted in the editor
    await frame.locator('#step-forward').click();
    await expect.poll(() => frame.locator('#picture .nn-forward .nn-node.nn-active').getAttribute('data-name')).toBe('a1');
    // the step's statement is highlighted in the editor: a whole-line decoration with a 2px left
    // border (the editor's own current-line box has borders on all sides); which line it is on
    const highlighted = () => page.evaluate(() => {
      const norm = (t: string | null | undefined) => (t ?? '').replace(/\s+/g, ' ').trim();
      const found: string[] = [];
      for (const editor of Array.from(document.querySelectorAll('.editor-group-container .monaco-editor'))) {
        const lines = Array.from(editor.querySelectorAll('.view-lines .view-line')) as HTMLElement[];
        for (const d of Array.from(editor.querySelectorAll('.view-overlays .cdr')) as HTMLElement[]) {
          const cs = getComputedStyle(d);
          if (cs.borderLeftWidth !== '2px' || cs.borderTopWidth !== '0px') continue;
          const top = d.getBoundingClientRect().top;
          const hit = lines.find((l) => Math.abs(l.getBoundingClientRect().top - top) < 3);
          found.push(norm(hit?.textContent));
        }
      }
      return found;
    });
    await expect.poll(highlighted, { timeout: 10_000 }).toContainEqual(expect.stringContaining('a1 = tanh(W1 @ x + b1)'));
    await shot('backprop-xor-step');
    await maximizedShot('Backprop — Xor', 'backprop-xor-step-maximized');
    // the whole picture, with a weight selected: ∂C/∂W1[2, 0] = a[0] × δ[2] with its numbers
    await frame.locator('#show-all').click();
    await frame.$eval('#picture .nn-backward line.nn-w[data-param="W1"][data-index="4"]', (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await expect.poll(() => frame.locator('#formula').innerText()).toContain('∂C/∂W1[2, 0] = a[0] × δ[2]');
    await maximizedShot('Backprop — Xor', 'backprop-xor-weight-maximized');
    // clicking the node y reveals its line: the cursor goes there
    await frame.locator('#picture .nn-forward .nn-node[data-name="y"] circle').first().click();
    await expect.poll(() => page.locator('#status\\.editor\\.selection').innerText(), { timeout: 30_000 }).toMatch(/^Ln 14,/);
  });

  it('draws the digits network at tensor level (needs the language server)', async () => {
    needsServer();
    await openFile('digits.nn');
    await line('z1 = W1 @ x + b1').click();
    await runCommand('NN Lens: Show Backprop');
    await page.locator('.tab', { hasText: 'Backprop — Digits' }).waitFor({ timeout: SERVER_WAIT });
    const frame = await backpropFrame();
    await expect.poll(() => frame.evaluate(() => window.__nnlensBackprop!.level()), { timeout: SERVER_WAIT }).toBe('tensor');
    expect(await frame.locator('#picture .nn-forward .nn-node').count()).toBe(11); // x, t, 4 params, z1, a1, z2, y, C
    // the cursor's line selects its node
    await expect.poll(() => frame.evaluate(() => window.__nnlensBackprop!.selection()), { timeout: 30_000 }).toEqual({ kind: 'tensor', name: 'z1', phase: 'forward' });
    await maximizedShot('Backprop — Digits', 'backprop-digits-tensor-maximized');
  });

  // ---------------------------------------------------------------------------------------------

  it('restores the loss panel and its runs after the window reloads', async () => {
    const before = (await chartState(await lossFrame(10_000))).runs;
    expect(before.length).toBeGreaterThan(0);
    // As a user would: VS Code shuts down cleanly (saving webview state) and reloads the page.
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 120_000 });
    await runCommand('Developer: Reload Window');
    await navigated;
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    // VS Code brings the panel back as a tab; its webview is created when the tab is shown.
    const tab = page.locator('.tab', { hasText: /Loss — / }).first();
    await tab.waitFor({ timeout: 120_000 });
    await tab.click();
    const frame = await lossFrame(120_000);
    // The same runs with the same numbers (a run that was live is marked as interrupted).
    const summary = (runs: ChartState['runs']) => runs.map((r) => `${r.label}: ${r.points}`);
    await expect.poll(async () => summary((await chartState(frame)).runs), { timeout: 60_000 }).toEqual(summary(before));
    await expect.poll(async () => (await chartState(frame)).x, { timeout: 30_000 }).toBeGreaterThan(0); // drawn at its next animation frame
    await shot('restored-after-reload');
  });

  // ---------------------------------------------------------------------------------------------
  // The debugger (debug type nnlens: `out/cli.js dap`).

  it('debugs: F5 with a launch.json of type nnlens stops on entry, Variables shows the tensors, F10 steps on', async () => {
    mkdirSync(join(ws, '.vscode'), { recursive: true });
    writeFileSync(join(ws, '.vscode', 'launch.json'), JSON.stringify({
      version: '0.2.0',
      configurations: [{
        type: 'nnlens', request: 'launch', name: 'Step through Lecture',
        program: '${workspaceFolder}/backprop.nn', model: 'Lecture', example: 1, stopOnEntry: true,
      }],
    }, null, 2));
    await runCommand('View: Close All Editors');
    await openFile('backprop.nn');
    await page.keyboard.press('F5');
    const frame = (text: string) => page.locator('.debug-call-stack .monaco-list-row', { hasText: text }).first();
    await frame('entry: Lecture, example 1 of 2 (data points)').waitFor({ timeout: 90_000 });
    // Values (expanded by VS Code as the first scope): the example's input and target
    const variables = async () => (await page.locator('.debug-variables .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    await expect.poll(variables, { timeout: 30_000 }).toEqual(expect.arrayContaining([
      'Values', expect.stringMatching(/^x = \[0\.5, -1, 2\]$/), expect.stringMatching(/^t = \[0, 1\]$/), 'Params', 'Gradients',
    ]));
    // a wider side bar, so that Variables shows more of each tensor
    const bar = await page.locator('.part.sidebar').boundingBox();
    if (bar) {
      await page.mouse.move(bar.x + bar.width + 1, bar.y + bar.height / 2);
      await page.mouse.down();
      await page.mouse.move(bar.x + bar.width + 200, bar.y + bar.height / 2, { steps: 10 });
      await page.mouse.up();
    }
    // open Gradients too (VS Code keeps it open from stop to stop)
    await page.locator('.debug-variables .monaco-list-row', { hasText: /^\s*Gradients\s*$/ }).click();
    await shot('debug-entry');

    // F10: the first statement runs; its value appears in Values and at the end of its line
    await page.keyboard.press('F10');
    await frame('forward: z1 = W1 @ x + b1').waitFor({ timeout: 30_000 });
    await expect.poll(variables, { timeout: 30_000 }).toEqual(expect.arrayContaining([expect.stringMatching(/^z1 = \[-?\d.*\]$/)]));
    for (const next of ['forward: a1', 'forward: z2', 'forward: y', 'forward: C', 'backward: grad C', 'backward: grad y', 'backward: grad z2 → W2, a1, b2']) {
      await page.keyboard.press('F10');
      await frame(next).waitFor({ timeout: 30_000 });
    }
    // into the backward pass: grad z2 with the lecture's ∂C/∂W2 = δ2 aᵀ in Gradients
    await expect.poll(variables, { timeout: 30_000 }).toEqual(expect.arrayContaining([expect.stringMatching(/^grad W2 = \[\[/), expect.stringMatching(/^grad z2 = \[/)]));
    // the executed lines show their values at their ends (inline values)
    await expect.poll(async () => (await line('z1 = W1 @ x + b1').innerText()).replace(/\s+/g, ' '), { timeout: 30_000 })
      .toMatch(/z1 = W1 @ x \+ b1 .*z1 = \[4\] \[-?\d/);
    // hovering a name evaluates it in the language
    await expect.poll(async () => {
      await page.mouse.move(5, 5);
      await line('z2 = W2 @ a1 + b2').locator('span > span', { hasText: /^a1$/ }).first().hover();
      try {
        const hover = page.locator('.debug-hover-widget:visible').first();
        await hover.waitFor({ state: 'visible', timeout: 5_000 });
        return (await hover.innerText()).replace(/\s+/g, ' ');
      } catch {
        return '';
      }
    }, { timeout: 60_000, interval: 1_000 }).toMatch(/\[4\] \[0\.\d/);
    await page.mouse.move(5, 5);
    // the Debug Console evaluates an expression of the language in this scope
    // (VS Code opened the Debug Console when the session started)
    await page.locator('.panel .composite-bar .action-item', { hasText: 'Debug Console' }).first().click();
    const repl = page.locator('.repl-input-wrapper .monaco-editor');
    await repl.waitFor({ timeout: 30_000 });
    await repl.click();
    await page.keyboard.type('outer(grad z2, a1)');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await page.locator('.repl .monaco-list-row').allInnerTexts()).join('\n'), { timeout: 30_000 })
      .toMatch(/\[2, 4\] \[\[/);
    await line('a1 = sigmoid').click();
    await shot('debug-backward');
    await page.screenshot({ path: join(root, 'docs', 'images', 'debugger.png') });
    // Shift+F5 ends the session
    await page.keyboard.press('Shift+F5');
    await expect.poll(() => page.locator('.debug-toolbar').isVisible(), { timeout: 30_000 }).toBe(false);
  });

  it('steps through the model at the cursor with "NN Lens: Step Through Model", without a launch.json; the lens offers it too', async () => {
    needsServer();
    // no session left over from the step before
    for (let i = 0; i < 5 && await page.locator('.debug-toolbar').isVisible(); i++) {
      await page.keyboard.press('Shift+F5');
      await page.waitForTimeout(1_000);
    }
    rmSync(join(ws, '.vscode'), { recursive: true, force: true });
    await openFile('backprop.nn');
    await expect.poll(() => page.locator('.editor-group-container.active .codelens-decoration', { hasText: 'Step through' }).count(), { timeout: SERVER_WAIT })
      .toBeGreaterThan(0);
    await line('a1 = sigmoid').click();
    await runCommand('NN Lens: Step Through Model');
    await page.locator('.debug-call-stack .monaco-list-row', { hasText: 'entry: Lecture, example 1 of 2' }).first().waitFor({ timeout: 90_000 });
    await page.keyboard.press('F10');
    await page.locator('.debug-call-stack .monaco-list-row', { hasText: 'forward: z1 = W1 @ x + b1' }).first().waitFor({ timeout: 30_000 });
    await shot('debug-step-through-command');
    await page.keyboard.press('Shift+F5');
    await expect.poll(() => page.locator('.debug-toolbar').isVisible(), { timeout: 30_000 }).toBe(false);
  });
});

describe('NN Lens in Restricted Mode (an untrusted workspace)', () => {
  screenshotOnFailure();
  beforeAll(() => launch('restricted', false));
  afterAll(() => shutdown('restricted'));

  it('keeps colouring and the commands, but refuses to train and says why', async () => {
    await openFile('train.nn');
    await expect.poll(() => page.locator('#status\\.editor\\.mode').innerText(), { timeout: 30_000 }).toBe('NN');
    // VS Code shows that the window is in Restricted Mode.
    await expect.poll(() => page.locator('footer .statusbar-item', { hasText: 'Restricted Mode' }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await line('h = dense').click();
    await runCommand('NN Lens: Train Model');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'training is off in Restricted Mode' });
    await toast.waitFor({ timeout: 30_000 });
    expect((await toast.innerText()).replace(/\s+/g, ' ')).toContain('it needs a trusted workspace');
    expect(await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count()).toBe(1);
    await shot('restricted-train-refused');
    expect(await page.locator('.tab', { hasText: 'Loss — ' }).count()).toBe(0);
    await expect.poll(async () => (await page.locator('footer .statusbar-item', { hasText: /epoch/ }).count())).toBe(0);
  });
});
