/**
 * `npm run bench [-- options]`: training speed of the engine against PyTorch (same run,
 * measurements interleaved) — the training step, and `nnlens train` end to end — then the kernel
 * micro-benchmark.
 *
 * Options:
 *   --only W1,W3        run only these workloads
 *   --seconds S         length of one timed run of steps (default 1)
 *   --repeats R         timed runs per side and workload; the median is reported (default 5)
 *   --e2e-seconds S     training time of the end-to-end run of E epochs (default 3)
 *   --e2e-repeats R     end-to-end pairs (E epochs, 1 epoch) per row (default 3)
 *   --no-e2e            skip the end-to-end rows
 *   --no-threads        skip the threaded rows
 *   --no-torch          skip PyTorch
 *   --no-pin            let the scheduler place both sides (default: core-matched pairs, below)
 *   --workloads-only    skip the kernel micro-benchmark
 *   --kernels-only      only the kernel micro-benchmark
 *   --json              print one JSON object instead of tables
 *   --cpu N             (bench/run.mjs) run everything — the engine, PyTorch, nnlens train — on
 *                       CPU N only (`taskset -c N`): both sides on the same core, no threaded rows
 *
 * Core-matched pairs (the default on a machine of 2 or more CPUs with `taskset`): the vCPUs of a
 * shared host are not alike — here the two differed by 30–44 % for minutes at a time (a busy
 * neighbour on one of them), so a run of the engine on one and of PyTorch on the other measures the
 * host. Each one-thread measurement is therefore a pair: an engine run (the step in this process, or
 * `nnlens train` E and 1 epochs) and the PyTorch run right after it (for `nnlens train`, a PyTorch
 * run before it too: their mean step time), all pinned to the same CPU (`taskset`), the pairs
 * alternating between the CPUs the benchmark was given. engine/PyTorch is the median of the
 * pairs' ratios; the steps/s columns are the medians of each side's runs. The threaded rows are
 * not pinned (they need the cores).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { analyzeText } from '../language/index';
import { chooseThreads } from '../engine/train/trainer';
import { bestBackend } from '../engine/kernels/index';
import { prepareE2e, timeCli, type E2eSetup } from './e2e';
import { engineRunner, median, runFor, type EngineRunner } from './engine';
import { kernelBench } from './kernels';
import { TorchRunner, torchUnavailable, type TorchInfo } from './torch';
import { stepFlops, WORKLOADS, type Workload } from './workloads';

interface Args {
  only: string[] | null;
  seconds: number;
  repeats: number;
  e2eSeconds: number;
  e2eRepeats: number;
  e2e: boolean;
  threads: boolean;
  torch: boolean;
  pin: boolean;
  workloads: boolean;
  kernels: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    only: null,
    seconds: 1,
    repeats: 6,
    e2eSeconds: 3,
    e2eRepeats: 4,
    e2e: true,
    threads: true,
    torch: true,
    pin: true,
    workloads: true,
    kernels: true,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${s} needs a value`);
      return v;
    };
    if (s === '--only') a.only = value().split(',').map((w) => w.trim().toUpperCase());
    else if (s === '--seconds') a.seconds = Number(value());
    else if (s === '--repeats') a.repeats = Number(value());
    else if (s === '--e2e-seconds') a.e2eSeconds = Number(value());
    else if (s === '--e2e-repeats') a.e2eRepeats = Number(value());
    else if (s === '--no-e2e') a.e2e = false;
    else if (s === '--no-threads') a.threads = false;
    else if (s === '--no-torch') a.torch = false;
    else if (s === '--no-pin') a.pin = false;
    else if (s === '--workloads-only') a.kernels = false;
    else if (s === '--kernels-only') a.workloads = false;
    else if (s === '--json') a.json = true;
    else throw new Error(`unknown option ${s}`);
  }
  if (!(a.seconds > 0) || !(a.repeats >= 1) || !(a.e2eSeconds > 0) || !(a.e2eRepeats >= 1))
    throw new Error('--seconds, --repeats, --e2e-seconds and --e2e-repeats must be positive');
  return a;
}

/** One row of the table: the engine's steps per second (a step, or end to end) against PyTorch's. */
interface Row {
  id: string;
  what: 'step' | 'end to end';
  /** Threads of the engine and of PyTorch. */
  threads: number;
  torchThreads: number;
  engine: number | null;
  torch: number | null;
  ratio: number | null;
  /** The goal applies to the one-thread end-to-end rows (and, as before, the step rows). */
  goal: number | null;
  engineRuns: number[];
  torchRuns: number[];
  /** Core-matched pairs: each pair's CPU and engine/PyTorch ratio (the row's ratio is their median). */
  pairCpus?: number[];
  pairRatios?: number[];
  /** End to end: epochs of the long run, and the pairs' reported training times and wall times (ms). */
  epochs?: number;
  timesE?: number[];
  times1?: number[];
  wallE?: number[];
  wall1?: number[];
  /** Steps per second from the commands' wall times (the same difference, noisier). */
  wallRate?: number | null;
  error?: string;
}

interface WorkloadResult {
  id: string;
  title: string;
  mflop: number;
  goal: number;
  backend: string | null;
  rows: Row[];
}

const fmtRate = (v: number | null) => (v === null ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

const CLI = join(process.cwd(), 'out', 'cli.js');

/**
 * The CPUs core-matched pairs alternate between (see the header), or null: not pinned — with
 * --no-pin, under --cpu (everything is on one CPU already), on one CPU, or without `taskset`.
 */
function pairCpus(args: Args): number[] | null {
  if (!args.pin || process.env.NNLENS_BENCH_CPU !== undefined) return null;
  if (START.cpus.length < 2) return null;
  if (spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status !== 0) return null;
  return START.cpus;
}

/** "0-3,6" (taskset's and the kernel's CPU list) as [0, 1, 2, 3, 6]; null if it is not one. */
function parseCpuList(list: string): number[] | null {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out.length ? out : null;
}

/**
 * The CPUs this process may run on, read once before any pinning (Node's availableParallelism()
 * counts the CPUs of the current affinity, and a container or `taskset -c 2,3` need not start at
 * CPU 0): the kernel's Cpus_allowed_list, else CPUs 0 … n−1.
 */
const START: { list: string; cpus: number[]; count: number } = (() => {
  const count = availableParallelism();
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const cpus = line ? parseCpuList(line[1]) : null;
    if (line && cpus) return { list: line[1], cpus, count };
  } catch {
    /* not Linux: taskset is absent too, and nothing is pinned */
  }
  return { list: `0-${count - 1}`, cpus: Array.from({ length: count }, (_, i) => i), count };
})();

/** Moves every thread of process `pid` to `cpu`, or back to every CPU (null). */
function pin(pid: number | undefined, cpu: number | null): void {
  if (pid === undefined) return;
  const cpus = cpu === null ? START.list : String(cpu);
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed`);
}

async function benchWorkload(
  w: Workload,
  args: Args,
  torch: TorchRunner | null,
  torchDefault: number,
  cpus: number[] | null,
  log: (s: string) => void,
): Promise<WorkloadResult> {
  const res: WorkloadResult = { id: w.id, title: w.title, mflop: stepFlops(w) / 1e6, goal: w.goal, backend: null, rows: [] };
  // threads that `auto` picks for this workload here (the language's analysis gives the model)
  const analysis = await analyzeText(w.source, { uri: `bench-${w.id}.nn` });
  const model = analysis.program.models.find((m) => m.name === w.model);
  // what auto picks on an idle machine (it picks one thread on a busy one: the rows say how threads
  // fare either way)
  const auto = model ? chooseThreads('auto', model, w.batch, START.count, 0) : 1;
  const configs: { threads: number; torchThreads: number }[] = [{ threads: 1, torchThreads: 1 }];
  // the threaded engine against PyTorch with as many threads (and, below, with its default)
  if (args.threads && auto > 1) configs.push({ threads: auto, torchThreads: auto });

  let setup: E2eSetup | null = null;
  if (args.e2e) {
    try {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing (npm run build)`);
      setup = prepareE2e(w, join(process.cwd(), '.cache', 'bench', 'e2e'));
    } catch (e) {
      log(`  ${w.id}: end to end skipped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  for (const { threads, torchThreads } of configs) {
    const step: Row = { id: w.id, what: 'step', threads, torchThreads, engine: null, torch: null, ratio: null, goal: threads === 1 ? w.goal : null, engineRuns: [], torchRuns: [] };
    const e2e: Row = { id: w.id, what: 'end to end', threads, torchThreads, engine: null, torch: null, ratio: null, goal: threads === 1 ? w.e2eGoal : null, engineRuns: [], torchRuns: [], timesE: [], times1: [], wallE: [], wall1: [], wallRate: null };
    let runner: EngineRunner | null = null;
    try {
      runner = await engineRunner(w, bestBackend('f32', { threads }));
      res.backend ??= runner.backend;
      await new Promise((r) => setTimeout(r, 100)); // helper threads start
      runFor(runner, 0.3);
    } catch (e) {
      step.error = e instanceof Error ? e.message : String(e);
      log(`  ${w.id}: engine failed: ${step.error}`);
    }
    // core-matched pairs for the one-thread rows (the header); the threaded rows on every CPU
    const paired = threads === 1 && torchThreads === 1 && cpus !== null && runner !== null && torch !== null;
    const cpuOf = (r: number) => (paired ? cpus![r % cpus!.length] : null);
    const place = (cpu: number | null) => {
      if (!cpus) return;
      pin(process.pid, cpu);
      pin(torch?.pid, cpu);
    };
    if (paired) {
      step.pairCpus = [];
      step.pairRatios = [];
      e2e.pairCpus = [];
      e2e.pairRatios = [];
    }
    place(null);
    if (torch) await torch.stepsPerSecond(w, 0.3, torchThreads); // warm up
    try {
      for (let r = 0; r < args.repeats; r++) {
        const cpu = cpuOf(r);
        if (cpu !== null) place(cpu);
        if (runner) step.engineRuns.push(runFor(runner, args.seconds));
        if (torch) step.torchRuns.push(await torch.stepsPerSecond(w, args.seconds, torchThreads));
        if (cpu !== null) {
          step.pairCpus!.push(cpu);
          step.pairRatios!.push(step.engineRuns[r] / step.torchRuns[r]);
        }
      }
    } finally {
      place(null); // whatever failed, the rest of the benchmark runs on every CPU again
    }
    runner?.dispose();
    if (step.engineRuns.length) step.engine = median(step.engineRuns);
    // end to end: E epochs train about --e2e-seconds at the step's speed. Unpaired, PyTorch keeps
    // running between the runs (its median covers the whole time); paired, a PyTorch run on the
    // same CPU just before the two commands and one just after bracket them (the vCPU's speed can
    // drift in the ~5 s they take), and the pair's PyTorch rate is the two runs' (mean step time)
    const epochs = setup && step.engine ? Math.max(3, Math.round((args.e2eSeconds * step.engine) / setup.stepsPerEpoch)) : 0;
    e2e.epochs = epochs;
    const e2eTorch: number[] = [];
    try {
      for (let r = 0; setup && epochs && r < args.e2eRepeats; r++) {
        const cpu = cpuOf(r);
        let before = 0;
        if (cpu !== null) {
          place(cpu);
          before = await torch!.stepsPerSecond(w, args.seconds, torchThreads);
        }
        try {
          const long = timeCli(CLI, setup, epochs, threads, cpu);
          const one = timeCli(CLI, setup, 1, threads, cpu);
          e2e.timesE!.push(long.trainMs);
          e2e.times1!.push(one.trainMs);
          e2e.wallE!.push(long.wallMs);
          e2e.wall1!.push(one.wallMs);
          const steps = (epochs - 1) * setup.stepsPerEpoch;
          e2e.engineRuns.push((1000 * steps) / (long.trainMs - one.trainMs));
        } catch (err) {
          e2e.error = err instanceof Error ? err.message : String(err);
          log(`  ${w.id}: end to end failed: ${e2e.error}`);
          break;
        }
        if (torch) {
          // still on the pair's CPU (the commands ran there too)
          const t = await torch.stepsPerSecond(w, args.seconds, torchThreads);
          if (cpu !== null) {
            const bracket = 2 / (1 / before + 1 / t);
            e2eTorch.push(bracket);
            e2e.pairCpus!.push(cpu);
            e2e.pairRatios!.push(e2e.engineRuns[r] / bracket);
          } else step.torchRuns.push(t);
        }
      }
    } finally {
      place(null); // an end-to-end failure leaves nothing pinned
    }
    if (step.torchRuns.length) step.torch = median(step.torchRuns);
    if (step.engine !== null && step.torch !== null) step.ratio = paired ? median(step.pairRatios!) : step.engine / step.torch;
    // paired: the e2e row's PyTorch runs are those of its pairs; else every PyTorch run of the config
    e2e.torchRuns = paired ? e2eTorch : step.torchRuns;
    e2e.torch = e2e.torchRuns.length ? median(e2e.torchRuns) : null;
    if (e2e.engineRuns.length) e2e.engine = median(e2e.engineRuns);
    if (setup && e2e.wallE!.length) {
      const steps = (epochs - 1) * setup.stepsPerEpoch;
      e2e.wallRate = median(e2e.wallE!.map((t, i) => (1000 * steps) / (t - e2e.wall1![i])));
    }
    if (e2e.engine !== null && e2e.torch !== null) e2e.ratio = e2e.pairRatios?.length ? median(e2e.pairRatios) : e2e.engine / e2e.torch;
    const t = threads > 1 ? ` (${threads} threads; PyTorch ${torchThreads})` : '';
    log(
      `  ${w.id}${t}: step ${fmtRate(step.engine)} steps/s, end to end ${fmtRate(e2e.engine)} steps/s (${epochs} epochs; from the commands' wall times ${fmtRate(e2e.wallRate ?? null)}), PyTorch ${fmtRate(step.torch)} steps/s`,
    );
    const pairs = (row: Row) => row.pairRatios!.map((q, i) => `${q.toFixed(2)} (CPU ${row.pairCpus![i]})`).join(', ');
    if (paired) log(`    pairs, engine/PyTorch: step ${pairs(step)}; end to end ${pairs(e2e)}`);
    res.rows.push(step);
    if (setup) res.rows.push(e2e);
  }
  // the threaded engine against PyTorch at its default thread count, when that is another row's
  for (const row of [...res.rows]) {
    if (row.threads === 1 || row.torchThreads === torchDefault) continue;
    const base = res.rows.find((r) => r.what === row.what && r.torchThreads === torchDefault && r.threads === 1);
    if (!base || base.torch === null) continue;
    res.rows.push({ ...row, torchThreads: torchDefault, torch: base.torch, torchRuns: base.torchRuns, ratio: row.engine === null ? null : row.engine / base.torch, goal: null });
  }
  return res;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (s: string) => {
    if (!args.json) console.log(s);
  };
  const machine = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: START.count,
    node: process.version,
    pinnedTo: process.env.NNLENS_BENCH_CPU ?? null,
  };
  const pinned = machine.pinnedTo !== null ? ` — everything pinned to CPU ${machine.pinnedTo} (taskset)` : '';
  log(`NN Lens benchmark — ${machine.date}\n${machine.cpu}, ${machine.cores} cores, Node ${machine.node}${pinned}`);

  const out: {
    machine: typeof machine;
    torch: TorchInfo | { unavailable: string } | null;
    pairCpus: number[] | null;
    workloads: WorkloadResult[];
    kernels: unknown;
  } = {
    machine,
    torch: null,
    pairCpus: null,
    workloads: [],
    kernels: null,
  };

  if (args.workloads) {
    let torch: TorchRunner | null = null;
    let torchDefault = 1;
    if (args.torch) {
      const why = torchUnavailable();
      if (why) {
        out.torch = { unavailable: why };
        log(`PyTorch: skipped — ${why}`);
      } else {
        torch = new TorchRunner();
        const info = await torch.info();
        out.torch = info;
        torchDefault = info.defaultThreads;
        log(`PyTorch ${info.torch}, ${info.threads} thread (its default here: ${info.defaultThreads}), BLAS ${info.blas}`);
      }
    }
    const cpus = torch ? pairCpus(args) : null;
    out.pairCpus = cpus;
    log(
      `\nTraining steps per second (float32, median of ${args.repeats} × ${args.seconds} s, interleaved). step: the trainer's step — gather, forward, backward, SGD;` +
        `\nend to end: nnlens train as a user runs it, (training time of E epochs − of 1 epoch, as it reports them) / steps, median of ${args.e2eRepeats} runs.` +
        (cpus
          ? `\nCore-matched pairs (one thread): each engine run and the PyTorch run after it (end to end: and before it) on the same CPU (taskset), alternating CPUs ${cpus.join(', ')};` +
            `\nengine/PyTorch is the median of the pairs' ratios (--no-pin: unpinned).`
          : ''),
    );
    const selected = WORKLOADS.filter((w) => !args.only || args.only.includes(w.id));
    try {
      for (const w of selected) out.workloads.push(await benchWorkload(w, args, torch, torchDefault, cpus, log));
    } finally {
      if (cpus) pin(process.pid, null);
      torch?.close();
    }
    const rows = [['workload', 'MFLOP/step', '', 'threads', 'engine steps/s', 'engine GFLOP/s', 'PyTorch steps/s', 'engine/PyTorch', 'goal']];
    for (const r of out.workloads) {
      r.rows.forEach((row, i) => {
        rows.push([
          i === 0 ? `${r.id} ${r.title}` : '',
          i === 0 ? r.mflop.toFixed(3) : '',
          row.what,
          row.threads === row.torchThreads ? String(row.threads) : `${row.threads} / ${row.torchThreads}`,
          row.error ? 'error' : fmtRate(row.engine),
          row.engine === null ? '—' : ((row.engine * r.mflop) / 1000).toFixed(2),
          fmtRate(row.torch),
          row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`,
          row.goal === null ? '' : row.ratio === null ? `≥ ${row.goal}×` : `≥ ${row.goal}× ${row.ratio >= row.goal ? 'met' : 'NOT met'}`,
        ]);
      });
    }
    log('\n' + table(rows));
    log(`threads: the engine’s / PyTorch’s (PyTorch’s default here: ${torchDefault}). The goals are for one thread each.`);
    const backend = out.workloads.find((r) => r.backend)?.backend;
    if (backend) log(`engine backend: ${backend}`);
    for (const r of out.workloads) for (const row of r.rows) if (row.error) log(`${r.id} ${row.what}: ${row.error}`);
  }

  if (args.kernels) {
    log('\nMatrix kernels, GFLOP/s (median of 5 runs; C = op(A)·op(B), M×N×K):');
    const kb = kernelBench();
    out.kernels = kb;
    const names = kb[0]?.results.map((r) => r.kernel) ?? [];
    const rows = [['product', 'M×N×K', ...names, '']];
    for (const { c, results } of kb) {
      rows.push([c.label, `${c.M}×${c.N}×${c.K}`, ...results.map((r) => r.gflops.toFixed(2)), '']);
    }
    log(table(rows));
  }
  if (args.json) console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
