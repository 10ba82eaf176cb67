/**
 * The benchmark workloads of docs/performance.md (from the project's performance anchors):
 * one training step = forward + backward + SGD update, float32 (the engine's step is the
 * trainer's: it also gathers its batch from a synthetic data set, see bench/engine.ts).
 *
 * Each workload is a `.nn` model (what a user writes) plus the same network described for the
 * PyTorch side (bench/torch_bench.py builds nn.Sequential from `layers`/`activation`/`loss`).
 */
export interface Workload {
  id: 'W1' | 'W2' | 'W3';
  title: string;
  /** Model source in the .nn language. */
  source: string;
  model: string;
  batch: number;
  lr: number;
  /** Layer widths, input first: [256, 30, 10]. */
  layers: number[];
  /** Hidden activation. */
  activation: 'sigmoid' | 'relu' | 'tanh';
  /** 'ce': softmax + cross-entropy on one-hot targets; 'mse': mean squared error. */
  loss: 'ce' | 'mse';
  /** The project's goal for engine / PyTorch (steps/s ratio) of the training step. */
  goal: number;
  /** The goal end to end (`nnlens train`, one thread each). */
  e2eGoal: number;
}

/**
 * Floating-point operations of one step's matrix products: forward and weight gradient for every
 * layer, input gradient for every layer but the first (W1 ≈ 1.04 MFLOP, W2 ≈ 29 MFLOP).
 */
export function stepFlops(w: Workload): number {
  let macs = 0;
  for (let i = 0; i + 1 < w.layers.length; i++) {
    const m = w.layers[i] * w.layers[i + 1];
    macs += (i === 0 ? 2 : 3) * m;
  }
  return 2 * macs * w.batch;
}

export const WORKLOADS: Workload[] = [
  {
    id: 'W1',
    title: '256-30-10 sigmoid, softmax+CE, batch 32 (the lecture’s digit net)',
    model: 'W1',
    batch: 32,
    lr: 0.5,
    layers: [256, 30, 10],
    activation: 'sigmoid',
    loss: 'ce',
    goal: 2,
    e2eGoal: 2,
    source: `
model W1 {
  input  x: [256]
  target t: [10]
  param W1: [30, 256] = normal(0, 0.1)
  param b1: [30]      = zeros
  param W2: [10, 30]  = normal(0, 0.1)
  param b2: [10]      = zeros
  z1 = W1 @ x + b1
  a1 = sigmoid(z1)
  z2 = W2 @ a1 + b2
  y  = softmax(z2)
  loss C = cross_entropy(y, t)
}
`,
  },
  {
    id: 'W2',
    title: '784-128-64-10 relu, softmax+CE, batch 64',
    model: 'W2',
    batch: 64,
    lr: 0.1,
    layers: [784, 128, 64, 10],
    activation: 'relu',
    loss: 'ce',
    goal: 0.5,
    e2eGoal: 0.8,
    source: `
model W2 {
  input  x: [784]
  target t: [10]
  param W1: [128, 784] = he
  param b1: [128]      = zeros
  param W2: [64, 128]  = he
  param b2: [64]       = zeros
  param W3: [10, 64]   = glorot
  param b3: [10]       = zeros
  a1 = relu(W1 @ x + b1)
  a2 = relu(W2 @ a1 + b2)
  y  = softmax(W3 @ a2 + b3)
  loss C = cross_entropy(y, t)
}
`,
  },
  {
    id: 'W3',
    title: '2-8-8-1 tanh, MSE, batch 16 (per-step overhead)',
    model: 'W3',
    batch: 16,
    lr: 0.05,
    layers: [2, 8, 8, 1],
    activation: 'tanh',
    loss: 'mse',
    goal: 10,
    e2eGoal: 10,
    source: `
model W3 {
  input  x: [2]
  target t: [1]
  param W1: [8, 2] = glorot
  param b1: [8]    = zeros
  param W2: [8, 8] = glorot
  param b2: [8]    = zeros
  param W3: [1, 8] = glorot
  param b3: [1]    = zeros
  a1 = tanh(W1 @ x + b1)
  a2 = tanh(W2 @ a1 + b2)
  y  = W3 @ a2 + b3
  loss C = mse(y, t)
}
`,
  },
];
