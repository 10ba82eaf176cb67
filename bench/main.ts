/**
 * `npm run bench [-- options]`: training speed of the engine against PyTorch (same run,
 * measurements interleaved), then the kernel micro-benchmark.
 *
 * Options:
 *   --only W1,W3        run only these workloads
 *   --seconds S         length of one timed run (default 1)
 *   --repeats R         timed runs per side and workload; the median is reported (default 5)
 *   --no-torch          skip PyTorch
 *   --workloads-only    skip the kernel micro-benchmark
 *   --kernels-only      only the kernel micro-benchmark
 *   --json              print one JSON object instead of tables
 */
import { cpus } from 'node:os';
import { engineRunner, median, runFor } from './engine';
import { kernelBench } from './kernels';
import { TorchRunner, torchUnavailable, type TorchInfo } from './torch';
import { stepFlops, WORKLOADS, type Workload } from './workloads';

interface Args {
  only: string[] | null;
  seconds: number;
  repeats: number;
  torch: boolean;
  workloads: boolean;
  kernels: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: null, seconds: 1, repeats: 5, torch: true, workloads: true, kernels: true, json: false };
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
    else if (s === '--no-torch') a.torch = false;
    else if (s === '--workloads-only') a.kernels = false;
    else if (s === '--kernels-only') a.workloads = false;
    else if (s === '--json') a.json = true;
    else throw new Error(`unknown option ${s}`);
  }
  if (!(a.seconds > 0) || !(a.repeats >= 1)) throw new Error('--seconds and --repeats must be positive');
  return a;
}

interface WorkloadResult {
  id: string;
  title: string;
  backend: string | null;
  engine: number | null;
  engineError?: string;
  torch: number | null;
  ratio: number | null;
  goal: number;
  mflop: number;
  engineRuns: number[];
  torchRuns: number[];
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

async function benchWorkload(w: Workload, args: Args, torch: TorchRunner | null, log: (s: string) => void): Promise<WorkloadResult> {
  const res: WorkloadResult = {
    id: w.id,
    title: w.title,
    backend: null,
    engine: null,
    torch: null,
    ratio: null,
    goal: w.goal,
    mflop: stepFlops(w) / 1e6,
    engineRuns: [],
    torchRuns: [],
  };
  let runner: Awaited<ReturnType<typeof engineRunner>> | null = null;
  try {
    runner = await engineRunner(w);
    res.backend = runner.backend;
    runFor(runner, 0.3);
  } catch (e) {
    res.engineError = e instanceof Error ? e.message : String(e);
    log(`  ${w.id}: engine failed: ${res.engineError}`);
  }
  if (torch) await torch.stepsPerSecond(w, 0.3); // warm up
  for (let r = 0; r < args.repeats; r++) {
    if (runner) res.engineRuns.push(runFor(runner, args.seconds));
    if (torch) res.torchRuns.push(await torch.stepsPerSecond(w, args.seconds));
  }
  if (res.engineRuns.length) res.engine = median(res.engineRuns);
  if (res.torchRuns.length) res.torch = median(res.torchRuns);
  if (res.engine !== null && res.torch !== null) res.ratio = res.engine / res.torch;
  log(`  ${w.id}: engine ${fmtRate(res.engine)} steps/s, PyTorch ${fmtRate(res.torch)} steps/s`);
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
    cores: cpus().length,
    node: process.version,
  };
  log(`NN Lens benchmark — ${machine.date}\n${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);

  const out: { machine: typeof machine; torch: TorchInfo | { unavailable: string } | null; workloads: WorkloadResult[]; kernels: unknown } = {
    machine,
    torch: null,
    workloads: [],
    kernels: null,
  };

  if (args.workloads) {
    let torch: TorchRunner | null = null;
    if (args.torch) {
      const why = torchUnavailable();
      if (why) {
        out.torch = { unavailable: why };
        log(`PyTorch: skipped — ${why}`);
      } else {
        torch = new TorchRunner();
        const info = await torch.info();
        out.torch = info;
        log(`PyTorch ${info.torch}, ${info.threads} thread, BLAS ${info.blas}`);
      }
    }
    log(`\nTraining steps per second (float32; engine: the trainer's step — gather, forward, backward, SGD; median of ${args.repeats} × ${args.seconds} s, interleaved):`);
    const selected = WORKLOADS.filter((w) => !args.only || args.only.includes(w.id));
    try {
      for (const w of selected) out.workloads.push(await benchWorkload(w, args, torch, log));
    } finally {
      torch?.close();
    }
    const rows = [['workload', 'MFLOP/step', 'engine steps/s', 'engine GFLOP/s', 'PyTorch steps/s', 'engine/PyTorch', 'goal']];
    for (const r of out.workloads) {
      rows.push([
        `${r.id} ${r.title}`,
        r.mflop.toFixed(3),
        r.engineError ? 'error' : fmtRate(r.engine),
        r.engine === null ? '—' : ((r.engine * r.mflop) / 1000).toFixed(2),
        fmtRate(r.torch),
        r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
        r.ratio === null ? `≥ ${r.goal}×` : `≥ ${r.goal}× ${r.ratio >= r.goal ? 'met' : 'NOT met'}`,
      ]);
    }
    log('\n' + table(rows));
    const backend = out.workloads.find((r) => r.backend)?.backend;
    if (backend) log(`engine backend: ${backend}`);
    for (const r of out.workloads) if (r.engineError) log(`${r.id} engine error: ${r.engineError}`);
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
