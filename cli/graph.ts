/**
 * `nnlens graph FILE --model NAME [--example N] [--weights W.json] [--level auto|neuron|tensor] [-o OUT.svg]`
 * (§10): the Backprop view's picture of one example's trace, as a standalone SVG (stdout
 * without -o). Exit 0 when written; 1 when the file has errors; 2 on unusable arguments or an
 * output path that cannot be written.
 */
import { writeFileSync } from 'node:fs';
import { traceData } from '../engine/session/trace';
import { neuronLevel, renderTrace } from '../render';
import { loadTrace, type TraceOptions } from './trace';
import { UsageError } from './tensorJson';

export async function runGraph(file: string, opts: TraceOptions & { out?: string; level?: string }): Promise<number> {
  const level = opts.level ?? 'auto';
  if (level !== 'auto' && level !== 'neuron' && level !== 'tensor') {
    throw new UsageError(`--level must be auto, neuron or tensor, not ${level}`);
  }
  const t = await loadTrace(file, opts, 'graph');
  if (typeof t === 'number') return t;
  const data = traceData(t);
  const fits = neuronLevel(data);
  if (level === 'neuron' && !fits.ok) throw new UsageError(`${t.model} cannot be drawn at neuron level: ${fits.why} (use --level tensor)`);
  const svg = renderTrace(data, { level });
  if (!opts.out) {
    process.stdout.write(svg + '\n');
    return 0;
  }
  try {
    writeFileSync(opts.out, svg + '\n');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new UsageError(`cannot write ${opts.out}: ${why}`);
  }
  process.stderr.write(`wrote ${opts.out} (${t.model}, example ${t.example}, ${svg.includes('data-level="neuron"') ? 'neuron' : 'tensor'} level)\n`);
  return 0;
}
