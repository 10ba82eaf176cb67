// Latency of the language server as an editor sees it, over stdio (build first: npm run build).
//
//   node scripts/latency.mjs [--runs N]
//   node scripts/latency.mjs --shapes [--runs N] [--inlay-refresh]
//   node scripts/latency.mjs --burst [--runs N]
//   … --cli PATH: time another build's out/cli.js (e.g. a copy of main's out/, in the same sitting)
//
// --shapes: only the shape diagnostics of the two 1,000-line files (1. below), e.g. to profile.
// --many: only the shape diagnostics of the 1,000-line file of 33 models.
// --inlay-refresh: the client says it supports workspace/inlayHint/refresh (as VS Code does), so
//   the server also works out every inlay hint of the file after each edit.
//
// --burst: the editor under a burst of edits (issue 13). examples/digits.nn is opened and
//   checked; then 1,500 full-text edits (a line typed character by character inside the model,
//   then deleted again) are written as fast as the pipe takes them, each followed by a hover,
//   completion, inlay-hint or document-symbol request, none awaited; the last edit restores the
//   original text and a final hover on W1 follows. Reports, per run and as p50 over N runs (default
//   5), the time from writing that final hover to its answer, and how the 1,500 requests were
//   answered (a result, or ContentModified/RequestCancelled). One fresh server per run.
//
// Without --burst, reports p50/p95 of
//   1. shape diagnostics after an edit, on two generated 1,000-line files (goal < 50 ms): one
//      model of 330 layers, and 33 models of 30 lines that use the file's consts, functions and
//      data (issue 13); the time from didChange to the publishDiagnostics of that version;
//   2. hover on a weight, with the engine's numbers (goal < 100 ms);
//   3. the fast gradient check of examples/digits.nn (goal < 300 ms): an nnlens/checkGradients
//      request in fast mode (lowering, the worker's check, its numbers and gradient health).
// Not a test: wall time depends on the machine and its load.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node.js';
import { manyModels } from './many-models.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const BURST = process.argv.includes('--burst');
const MANY_ONLY = process.argv.includes('--many');
const SHAPES_ONLY = MANY_ONLY || process.argv.includes('--shapes');
const INLAY_REFRESH = process.argv.includes('--inlay-refresh');
const cliArg = process.argv.indexOf('--cli');
// --cli PATH: another build of the command line (e.g. a copy of main's out/, to compare in one sitting)
const CLI = cliArg > 0 ? resolve(process.argv[cliArg + 1]) : join(root, 'out', 'cli.js');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : BURST ? 5 : 40;

// NNLENS_NODE_ARGS: extra node options for the server (e.g. "--cpu-prof --cpu-prof-dir=prof").
const nodeArgs = (process.env.NNLENS_NODE_ARGS ?? '').split(' ').filter(Boolean);
if (BURST) {
  await burstMode();
  process.exit(0);
}
const child = spawn(process.execPath, [...nodeArgs, CLI, 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
const waiters = [];
conn.onNotification('textDocument/publishDiagnostics', (p) => {
  for (const w of [...waiters]) if (w.uri === p.uri && w.version === p.version && w.check(p.diagnostics)) {
    waiters.splice(waiters.indexOf(w), 1);
    w.resolve(performance.now());
  }
});
conn.onRequest('window/workDoneProgress/create', () => null);
conn.onRequest('workspace/inlayHint/refresh', () => null);
conn.onRequest('workspace/codeLens/refresh', () => null);
conn.onRequest('workspace/configuration', () => [null]);
conn.listen();
const published = (uri, version, check) => new Promise((res) => waiters.push({ uri, version, check, resolve: res }));

const ws = mkdtempSync(join(tmpdir(), 'nnlens-latency-'));
const uriOf = (p) => pathToFileURL(p).toString();
await conn.sendRequest('initialize', {
  processId: process.pid,
  rootUri: uriOf(ws),
  workspaceFolders: [{ uri: uriOf(ws), name: 'latency' }],
  capabilities: {
    textDocument: { hover: { contentFormat: ['markdown'] }, publishDiagnostics: { versionSupport: true } },
    window: { workDoneProgress: true },
    ...(INLAY_REFRESH ? { workspace: { inlayHint: { refreshSupport: true } } } : {}),
  },
});
await conn.sendNotification('initialized', {});

/** Waits until the engine workers have nothing to do (so one measurement does not slow the next). */
async function idle() {
  for (;;) {
    const s = await conn.sendRequest('nnlens/debug/stats', {});
    if (s.workers.edit.pending === 0 && s.workers.full.pending === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU time (user + system) the server process has used so far, in ms (Linux: /proc; else NaN). */
function serverCpuMs() {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
function fmt(xs) {
  return `p50 ${percentile(xs, 50).toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms (n = ${xs.length})`;
}

// 1. Two 1,000-line files. Each is opened, then edited RUNS times back and forth: a shape error
//    is introduced in the middle of the file and fixed again; each edit is timed from didChange to
//    the publishDiagnostics of its version (with or without the error, as it should be).
async function shapeLatency(name, text, broken) {
  const path = join(ws, name);
  writeFileSync(path, text);
  const uri = uriOf(path);
  let version = 1;
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nn', version, text } });
  await published(uri, version, () => true);
  const edit = async (next, check) => {
    version++;
    const t0 = performance.now();
    const done = published(uri, version, check);
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text: next }] });
    return (await done) - t0;
  };
  const times = [];
  const cpu0 = serverCpuMs();
  const analyses0 = (await conn.sendRequest('nnlens/debug/stats', {})).analyses;
  for (let i = 0; i < RUNS; i++) {
    times.push(await edit(broken, (d) => d.some((x) => x.code === 'shape-mismatch')));
    times.push(await edit(text, (d) => !d.some((x) => x.code === 'shape-mismatch')));
  }
  times.cpuPerEdit = (serverCpuMs() - cpu0) / times.length;
  // model analyses computed and reused per edit (servers that count them)
  const analyses = (await conn.sendRequest('nnlens/debug/stats', {})).analyses;
  times.reuse = analyses && analyses0
    ? `; per edit ${((analyses.computed - analyses0.computed) / times.length).toFixed(1)} model analyses computed, ${((analyses.reused - analyses0.reused) / times.length).toFixed(1)} reused`
    : '';
  await conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  await idle();
  return times;
}

// 1a. One model of 330 small layers (3 lines each) plus a header.
const layers = 330;
const lines = ['// generated for scripts/latency.mjs', 'data d = circle(n: 200)', 'model Deep {', '  input x: [2]', '  target t: [1]'];
for (let i = 1; i <= layers; i++) {
  lines.push(`  param W${i}: [8, ${i === 1 ? 2 : 8}] = normal(0, 0.3)`);
  lines.push(`  param b${i}: [8] = zeros`);
  lines.push(`  h${i} = tanh(W${i} @ ${i === 1 ? 'x' : `h${i - 1}`} + b${i})`);
}
lines.push('  param Wo: [1, 8]', `  y = sigmoid(Wo @ h${layers})`, '  loss C = binary_cross_entropy(y, t)', '}', 'train Deep on d { epochs: 1 }');
const big = lines.join('\n') + '\n';
if (!MANY_ONLY) {
  const deep = await shapeLatency('big.nn', big, big.replace(`param b${layers / 2}: [8]`, `param b${layers / 2}: [9]`));
  console.log(`shape diagnostics after an edit, ${lines.length}-line file of one model (${layers} layers): ${fmt(deep)}; server CPU ${deep.cpuPerEdit.toFixed(0)} ms per edit`);
}

// 1b. 33 models of 30 lines, after a header of consts, functions and data they use.
const many = manyModels(33);
const at = many.indexOf('model M17 {');
const brokenMany = many.slice(0, at) + many.slice(at).replace('param b2: [H]', 'param b2: [9]');
const manyTimes = await shapeLatency('many.nn', many, brokenMany);
console.log(`shape diagnostics after an edit, ${many.split('\n').length - 1}-line file of 33 models: ${fmt(manyTimes)}; server CPU ${manyTimes.cpuPerEdit.toFixed(0)} ms per edit${manyTimes.reuse}`);
if (SHAPES_ONLY) {
  const exited = new Promise((r) => child.on('exit', r));
  await conn.sendRequest('shutdown');
  await conn.sendNotification('exit');
  await exited; // (a server started with --cpu-prof writes its profile as it exits)
  conn.dispose();
  rmSync(ws, { recursive: true, force: true });
  process.exit(0);
}

// 2. Hover on a weight of digits.nn, with the engine's numbers.
const digitsPath = join(ws, 'digits.nn');
const digits = readFileSync(join(root, 'examples', 'digits.nn'), 'utf8');
writeFileSync(digitsPath, digits);
const digitsUri = uriOf(digitsPath);
await conn.sendNotification('textDocument/didOpen', { textDocument: { uri: digitsUri, languageId: 'nn', version: 1, text: digits } });
await published(digitsUri, 1, () => true);
await idle();
const lineNo = digits.split('\n').findIndex((l) => l.includes('param W1'));
const position = { line: lineNo, character: digits.split('\n')[lineNo].indexOf('W1') + 1 };
const first = performance.now();
const h0 = await conn.sendRequest('textDocument/hover', { textDocument: { uri: digitsUri }, position });
const firstHover = performance.now() - first;
if (!/∂C\/∂W1/.test(h0?.contents?.value ?? '')) throw new Error('the hover has no gradient numbers');
const hover = [];
for (let i = 0; i < RUNS * 2; i++) {
  const t0 = performance.now();
  await conn.sendRequest('textDocument/hover', { textDocument: { uri: digitsUri }, position });
  hover.push(performance.now() - t0);
}
console.log(`hover on a weight (numbers ready): ${fmt(hover)}; the first hover after opening: ${firstHover.toFixed(1)} ms`);

// 1b. The same on digits.nn itself (a typical file: 31 lines).
{
  let v = 1;
  const bad = digits.replace('param b1: [H]', 'param b1: [20]');
  const small = [];
  for (let i = 0; i < RUNS; i++) {
    for (const [text, wantError] of [[bad, true], [digits, false]]) {
      v++;
      const t0 = performance.now();
      const done = published(digitsUri, v, (d) => d.some((x) => x.code === 'shape-mismatch') === wantError);
      await conn.sendNotification('textDocument/didChange', { textDocument: { uri: digitsUri, version: v }, contentChanges: [{ text }] });
      small.push((await done) - t0);
    }
  }
  console.log(`shape diagnostics after an edit, examples/digits.nn (${digits.split('\n').length} lines): ${fmt(small)}`);
  await new Promise((r) => setTimeout(r, 500));
  await idle();
}

// 3. The fast gradient check of digits.nn.
const check = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const r = await conn.sendRequest('nnlens/checkGradients', { uri: digitsUri, mode: 'fast' });
  check.push(performance.now() - t0);
  if (!r.models.Digits) throw new Error('no check result');
}
console.log(`fast gradient check of examples/digits.nn (request → result): ${fmt(check)}`);

await conn.sendRequest('shutdown');
await conn.sendNotification('exit');
conn.dispose();
rmSync(ws, { recursive: true, force: true });

// -----------------------------------------------------------------------------------------------
// --burst

async function burstMode() {
  const EDITS = 1500;
  const digits = readFileSync(join(root, 'examples', 'digits.nn'), 'utf8');
  const at = digits.indexOf('  loss C');
  const typed = '  h2 = tanh(W2 @ a1 + b2) * 0.5\n';
  // version k of the burst: the first (k mod (n+1)) characters of `typed`, inserted before the loss
  const textOf = (k) => digits.slice(0, at) + typed.slice(0, k % (typed.length + 1)) + digits.slice(at);
  const lineOf = (needle) => digits.split('\n').findIndex((l) => l.includes(needle));
  const w1 = { line: lineOf('param W1'), character: digits.split('\n')[lineOf('param W1')].indexOf('W1') + 1 };
  const latencies = [];
  for (let run = 0; run < RUNS; run++) {
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    let publishedFirst;
    const first = new Promise((r) => (publishedFirst = r));
    conn.onNotification('textDocument/publishDiagnostics', (p) => {
      if (p.version === 1) publishedFirst();
    });
    conn.onRequest('window/workDoneProgress/create', () => null);
    conn.onRequest('workspace/inlayHint/refresh', () => null);
    conn.onRequest('workspace/codeLens/refresh', () => null);
    conn.onRequest('workspace/configuration', () => [null]);
    conn.listen();
    const ws = mkdtempSync(join(tmpdir(), 'nnlens-burst-'));
    const uri = pathToFileURL(join(ws, 'digits.nn')).toString();
    writeFileSync(join(ws, 'digits.nn'), digits);
    await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(ws).toString(),
      workspaceFolders: [{ uri: pathToFileURL(ws).toString(), name: 'burst' }],
      capabilities: { textDocument: { hover: { contentFormat: ['markdown'] }, publishDiagnostics: { versionSupport: true } }, window: { workDoneProgress: true } },
    });
    await conn.sendNotification('initialized', {});
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nn', version: 1, text: digits } });
    await first;
    // numbers for the original text, so that the final hover needs no new check
    const h0 = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: w1 });
    if (!/∂C\/∂W1/.test(h0?.contents?.value ?? '')) throw new Error('the hover has no gradient numbers');
    const outcome = { result: 0, contentModified: 0, cancelled: 0, other: 0 };
    const answers = [];
    const writes = [];
    const before = await conn.sendRequest('nnlens/debug/stats', {});
    for (let i = 1; i <= EDITS; i++) {
      // the last edit restores the original text
      const text = i === EDITS ? digits : textOf(i);
      writes.push(conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: i + 1 }, contentChanges: [{ text }] }));
      const lines = text.split('\n');
      const line = (i * 7) % lines.length;
      const position = { line, character: Math.min(lines[line].length, (i * 3) % 12) };
      const [method, params] = [
        ['textDocument/hover', { textDocument: { uri }, position }],
        ['textDocument/completion', { textDocument: { uri }, position }],
        ['textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } } }],
        ['textDocument/documentSymbol', { textDocument: { uri } }],
      ][i % 4];
      answers.push(
        conn.sendRequest(method, params).then(
          () => outcome.result++,
          (e) => {
            if (e.code === -32801) outcome.contentModified++;
            else if (e.code === -32800) outcome.cancelled++;
            else outcome.other++;
          },
        ),
      );
    }
    await Promise.all(writes);
    const t0 = performance.now();
    const final = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: w1 });
    const ms = performance.now() - t0;
    await Promise.all(answers);
    if (!/∂C\/∂W1/.test(final?.contents?.value ?? '')) throw new Error('the final hover has no gradient numbers');
    const after = await conn.sendRequest('nnlens/debug/stats', {});
    latencies.push(ms);
    const counters = after.requests
      ? ` · server: ${after.requests.stale - before.requests.stale} answered stale without work, ` +
        `${after.requests.overtaken - before.requests.overtaken} overtaken, ${after.requests.answered - before.requests.answered} answered; ` +
        `${after.validations - before.validations} builds`
      : '';
    console.log(
      `burst ${run + 1}: final hover ${ms.toFixed(0)} ms after the burst; ${EDITS} requests: ${outcome.result} results, ` +
        `${outcome.contentModified} ContentModified, ${outcome.cancelled} cancelled, ${outcome.other} other errors${counters}`,
    );
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
    conn.dispose();
    rmSync(ws, { recursive: true, force: true });
  }
  console.log(`burst of ${EDITS} edits: final hover answered ${fmt(latencies)} after the burst`);
}
