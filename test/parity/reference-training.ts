/**
 * A float64 training loop written from the engine's documented pieces (docs/engine.md, docs/data.md):
 * initParams(seed), splitData(split, seed), EpochShuffler(n, seed), one optimizer step per batch
 * on the mean loss, `gradients: manual` through manualGradients(), torch.optim's SGD (momentum)
 * and Adam update rules. The export tests compare an exported script's training with it, epoch
 * by epoch.
 */
import {
  compileModel,
  EpochShuffler,
  jsBackend,
  subset,
  type Dataset,
  type IRModel,
  type IRProgram,
  type SplitData,
  type TrainOptions,
} from '../../engine/index';

export interface EpochLine {
  epoch: number;
  step: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
}

function argmax(a: ArrayLike<number>, off: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
}

/** The value the accuracy reads: the first argument of the loss op (cross_entropy, mse, bce) that reads the target. */
export function predictionNode(model: IRModel): number | null {
  const targets = new Set(model.nodes.filter((n) => n.op === 'target').map((n) => n.id));
  const ops = ['cross_entropy', 'mse', 'binary_cross_entropy'];
  for (const n of [model.nodes[model.loss.node], ...model.nodes.slice(0, model.loss.node).reverse()])
    if (ops.includes(n.op) && targets.has(n.args[1])) return n.args[0];
  return null;
}

export function referenceTraining(
  program: IRProgram,
  model: IRModel,
  data: SplitData,
  options: TrainOptions,
  initial: Record<string, Float64Array>,
  shuffleSeed: number,
  epochs: number,
): EpochLine[] {
  const p = compileModel(program, model, jsBackend('f64'));
  const input = model.inputs[0].name;
  const target = model.targets[0].name;
  const load = (ds: Dataset) => p.setBatch({ n: ds.n, data: { [input]: ds.x, [target]: ds.y } });
  const params = Object.fromEntries(model.params.map((q) => [q.name, Float64Array.from(initial[q.name])]));
  const state = Object.fromEntries(model.params.map((q) => [q.name, { m: new Float64Array(q.size), v: new Float64Array(q.size) }]));
  const pred = predictionNode(model);

  const evaluate = (ds: Dataset): { loss: number; accuracy: number | null } => {
    load(ds);
    p.setParams(params);
    const loss = p.forward();
    if (!ds.oneHot || pred === null) return { loss, accuracy: null };
    const y = p.value(pred);
    const k = ds.yShape[ds.yShape.length - 1];
    let correct = 0;
    for (let i = 0; i < ds.n; i++) if (argmax(y, i * k, k) === argmax(ds.y, i * k, k)) correct++;
    return { loss, accuracy: correct / ds.n };
  };

  const train = data.train;
  const shuffler = new EpochShuffler(train.n, shuffleSeed);
  const out: EpochLine[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = shuffler.next();
    let total = 0;
    for (let start = 0; start < train.n; start += options.batch) {
      const idx = order.slice(start, Math.min(train.n, start + options.batch));
      load(subset(train, idx));
      p.setParams(params);
      const loss = p.forward();
      if (options.gradients === 'manual') p.manualGradients();
      else p.backward();
      step++;
      total += loss * idx.length;
      const o = options.optimizer;
      for (const q of model.params) {
        const w = params[q.name];
        const g = p.grads[q.name];
        const s = state[q.name];
        if (o.kind === 'sgd') {
          for (let i = 0; i < w.length; i++) {
            s.m[i] = step === 1 ? g[i] : o.momentum * s.m[i] + g[i]; // torch: the first buffer is the gradient
            w[i] -= o.lr * (o.momentum ? s.m[i] : g[i]);
          }
        } else {
          const bc1 = 1 - o.beta1 ** step;
          const bc2 = Math.sqrt(1 - o.beta2 ** step);
          for (let i = 0; i < w.length; i++) {
            s.m[i] = o.beta1 * s.m[i] + (1 - o.beta1) * g[i];
            s.v[i] = o.beta2 * s.v[i] + (1 - o.beta2) * g[i] * g[i];
            w[i] -= (o.lr / bc1) * (s.m[i] / (Math.sqrt(s.v[i]) / bc2 + o.eps));
          }
        }
      }
    }
    const line: EpochLine = { epoch, step, loss: total / train.n, valLoss: null, accuracy: null };
    if (data.validation) {
      const v = evaluate(data.validation);
      line.valLoss = v.loss;
      line.accuracy = v.accuracy;
    } else if (train.oneHot) line.accuracy = evaluate(train).accuracy;
    out.push(line);
  }
  return out;
}
