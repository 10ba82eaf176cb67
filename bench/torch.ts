/**
 * Drives bench/torch_bench.py (PyTorch, one thread unless asked for more) as a child process: one JSON request per
 * line on its stdin, one JSON reply per line on its stdout. The Python process stays up for the
 * whole run so its measurements interleave with the engine's.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Workload } from './workloads';

/** The system Python that has torch (a pyenv python3 earlier on PATH may not). */
export const PYTHON = process.env.NNLENS_BENCH_PYTHON ?? '/usr/bin/python3';

export interface TorchInfo {
  torch: string;
  threads: number;
  /** PyTorch's own default thread count on this machine (before the benchmark sets 1). */
  defaultThreads: number;
  blas: string;
  python: string;
}

/** Null when torch can be imported; otherwise why not. */
export function torchUnavailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return `${PYTHON} cannot import torch (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return null;
}

export function findTorchScript(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : process.cwd(), process.cwd()];
  for (const s of starts) {
    for (const c of [join(s, 'torch_bench.py'), join(s, 'bench', 'torch_bench.py'), join(dirname(s), 'bench', 'torch_bench.py')]) {
      if (existsSync(c)) return c;
    }
  }
  throw new Error('bench/torch_bench.py not found');
}

export class TorchRunner {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private exited: string | null = null;

  constructor(script = findTorchScript()) {
    this.proc = spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (c: string) => (this.stderr += c));
    this.proc.on('exit', (code) => {
      this.exited = `PyTorch process exited (code ${code}): ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: this.exited }));
    });
  }

  private request<T>(req: object): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push((line) => {
        const out = JSON.parse(line) as T & { error?: string };
        if (out.error) reject(new Error(`PyTorch: ${out.error}`));
        else resolve(out);
      });
      this.proc.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  /** The PyTorch process (to pin it to a CPU). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  info(): Promise<TorchInfo> {
    return this.request<TorchInfo>({ cmd: 'info' });
  }

  /** Runs training steps for about `seconds` with `threads` (default 1); returns steps per second. */
  async stepsPerSecond(w: Workload, seconds: number, threads = 1): Promise<number> {
    const { layers, activation, loss, batch, lr } = w;
    const r = await this.request<{ steps: number; seconds: number }>({
      cmd: 'run',
      workload: { layers, activation, loss, batch, lr },
      seconds,
      threads,
    });
    return r.steps / r.seconds;
  }

  close(): void {
    this.proc.stdin.end();
  }
}
