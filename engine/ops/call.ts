/**
 * A call of a user `function` (§4) in a model: elementwise, its arguments broadcast together.
 * The function's body and derivatives are compiled by ../functions.ts; the loops are
 * ./elementwise.ts's. Its kinks are those of the ops inside the body (the function's `kinkSig`).
 */
import { fmt } from '../format';
import { err, ok } from '../result';
import { broadcastConflict, broadcastMap, broadcastShapes, fmtShape } from '../shape';
import { nIter, stride } from '../exec/types';
import { bindElementwise, callSpec } from './elementwise';
import { BROADCAST_RULE } from './rules';
import type { NodeEntry } from './types';
import { lifted } from './onnx';

/** The call entry; `kinkyOps` names the ops with a kink, for the `grad-kink` hint's text. */
export function callEntry(kinkyOps: readonly string[]): NodeEntry {
  const kinky = kinkyOps.length > 1 ? `${kinkyOps.slice(0, -1).join(', ')} or ${kinkyOps[kinkyOps.length - 1]}` : kinkyOps.join('');
  return {
    name: 'call',
    syntax: { kind: 'internal' },
    params: [],
    doc: 'A call of a function of your own, applied elementwise (its arguments broadcast together).',
    rule: 'elementwise: broadcast of the arguments',
    shape(shapes, { fn = 'call' }) {
      let acc: number[] = [];
      for (const s of shapes) {
        const next = broadcastShapes(acc, s);
        if (!next) {
          const [da, db] = broadcastConflict(acc, s);
          return err(
            `${fn}(${shapes.map(fmtShape).join(', ')}): argument shapes do not broadcast (${da} vs ${db}); ` +
              `a function is elementwise, so its arguments follow ${BROADCAST_RULE.replace('rule: ', '')}`,
          );
        }
        acc = next;
      }
      return ok(acc);
    },
    kernel: {
      bind(ctx) {
        const fn = ctx.lib.get(ctx.node.fn!);
        if (fn.arity !== ctx.args.length)
          throw new Error(`call of '${fn.name}' with ${ctx.args.length} arguments, expected ${fn.arity}`);
        const k = bindElementwise(ctx, callSpec(fn.name, fn.arity), 0, {
          f: fn.f,
          d: () => (ctx.fnGrads.mode === 'user' ? fn.dUsed : fn.dTrue),
        });
        if (fn.kinkSig) {
          const sig = fn.kinkSig;
          const { out, args } = ctx;
          const nb = nIter(ctx);
          const maps = args.map((a) => broadcastMap(out.shape, a.shape));
          const xs = new Array<number>(args.length);
          k.kink = {
            size: nb * out.size,
            write(codes: Int32Array) {
              for (let n = 0; n < nb; n++) {
                for (let i = 0; i < out.size; i++) {
                  for (let j = 0; j < args.length; j++) {
                    const a = args[j];
                    xs[j] = a.v[n * stride(a) + (maps[j] ? maps[j]![i] : i)];
                  }
                  codes[n * out.size + i] = sig(...xs);
                }
              }
            },
          };
        }
        return k;
      },
    },
    kink: { explain: (n) => `${n.fn ?? 'call'} has a kink (${kinky} inside) within the step` },
    nonFinite: { forward: (c) => `${c.node.fn}(${c.node.args.map((_, j) => fmt(c.at(j))).join(', ')}) = ${fmt(c.value)}` },
    reduction: () => 4, // a few operations per element
    pytorch: (py, n) => py.atom(`${n.fn}(${Array.from({ length: n.arity }, (_, j) => n.lifted(j).code).join(', ')})`),
    // the exporter expands the body elementwise, each op by its own ONNX emitter
    onnx: (b, inputs, n) => b.call(n.node.fn!, inputs.map((_, j) => lifted(b, inputs, n, j))),
  };
}
