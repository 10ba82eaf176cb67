/**
 * `data.py` of an exported project: the train block's data set as a `torch.utils.data.Dataset`,
 * and its train/validation split.
 *
 * - `csv(…)` is read from its file (the path relative to the project, as resolved at export),
 *   with nnlens's label rules and normalisation (engine/data/csv.ts);
 * - `digits16(…)` and `table {…}` are saved beside data.py as `.npz` (digits as their bytes:
 *   nnlens's pixel values are byte / 255 exactly);
 * - `xor()`, `circle`, `gauss` and `spiral` are regenerated from their seed by nnlens's algorithm
 *   (engine/data/generators.ts) over nnlens's generator (engine/rng.ts), ported to Python;
 * - the split is nnlens's (engine/data/batching.ts `splitData`, same seed): the same examples
 *   are held out for validation as in `nnlens train`.
 */
import { relative } from 'node:path';
import type { Dataset, IRData } from '../../../engine';
import { npz } from '../npz';
import { pyFloat, pyString } from '../python';

export interface DataInput {
  decl: IRData;
  /** The loaded data set (what nnlens trains on before the split). */
  dataset: Dataset;
  /** `data NAME = …` as written (one line). */
  text: string;
  /** Absolute path of a csv file. */
  csvPath: string | null;
  /** The project directory (absolute), for the csv's relative path. */
  projectDir: string;
  split: number;
  splitSeed: number;
}

export interface DataCode {
  text: string;
  files: { name: string; bytes: Uint8Array }[];
}

const RNG = String.raw`
_M32 = 0xFFFFFFFF


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & _M32


class Rng:
    """nnlens's seeded generator (engine/rng.ts): xoshiro128** seeded through splitmix32. The data
    generators and the train/validation split draw from it, so they are nnlens's to the bit."""

    def __init__(self, seed):
        x = (math.floor(seed) & _M32) ^ 0x9E3779B9
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & _M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & _M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & _M32
            s.append((z ^ (z >> 16)) & _M32)
        if not any(s):
            s[0] = 1
        self.s = s
        self.spare = None

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & _M32, 7) * 9) & _M32
        t = (s1 << 9) & _M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        """Uniform in [0, 1), 53 random bits."""
        hi = self.next_u32() >> 5
        lo = self.next_u32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992.0

    def range(self, lo, hi):
        return lo + (hi - lo) * self.uniform()

    def int(self, n):
        return math.floor(self.uniform() * n)

    def normal(self, mean=0.0, std=1.0):
        """Box-Muller, polar form (one spare value kept for the next call)."""
        if self.spare is not None:
            v, self.spare = self.spare, None
            return mean + std * v
        while True:
            u = 2 * self.uniform() - 1
            v = 2 * self.uniform() - 1
            s = u * u + v * v
            if 0 < s < 1:
                break
        m = math.sqrt((-2 * math.log(s)) / s)
        self.spare = v * m
        return mean + std * u * m

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a
`;

const CLASS_COUNT = String.raw`
def _class_count(n, k, c):
    """How many of n points class c of k gets: as equal as possible, earlier classes first."""
    return n // k + (1 if c < n % k else 0)
`;

function sourceCode(d: DataInput): { code: string; files: DataCode['files'] } {
  const spec = d.decl.spec;
  const ds = d.dataset;
  switch (spec.kind) {
    case 'xor':
      return {
        files: [],
        code: String.raw`
def _source(path=None):
    """xor(): the four XOR points."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return x, y
`,
      };
    case 'circle':
      return {
        files: [],
        code:
          CLASS_COUNT +
          String.raw`

def _source(path=None):
    """circle(n, noise, seed), as engine/data/generators.ts draws it: class 1 inside radius 2.5, class 0 on
    a ring from 3.5 to 5; the noise moves the point before its label is decided (the stored point is the clean one)."""
    n, noise, rng, radius = ${spec.n}, ${pyFloat(spec.noise)}, Rng(${pyFloat(spec.seed)}), 5.0
    x = np.zeros((n, 2))
    y = np.zeros((n, 1))
    i = 0
    for label in (1, 0):
        lo, hi = (0.0, radius * 0.5) if label == 1 else (radius * 0.7, radius)
        for _ in range(_class_count(n, 2, 0 if label == 1 else 1)):
            r = rng.range(lo, hi)
            angle = rng.range(0, 2 * math.pi)
            px, py = r * math.sin(angle), r * math.cos(angle)
            nx = rng.range(-radius, radius) * noise
            ny = rng.range(-radius, radius) * noise
            x[i] = px, py
            y[i, 0] = 1.0 if math.hypot(px + nx, py + ny) < radius * 0.5 else 0.0
            i += 1
    return x, y
`,
      };
    case 'gauss':
      return {
        files: [],
        code:
          CLASS_COUNT +
          String.raw`

def _source(path=None):
    """gauss(n, noise, seed): class 1 around (2, 2), class 0 around (-2, -2), variance 0.5 + 7 noise."""
    n, noise, rng = ${spec.n}, ${pyFloat(spec.noise)}, Rng(${pyFloat(spec.seed)})
    std = math.sqrt(0.5 + 7 * noise)
    x = np.zeros((n, 2))
    y = np.zeros((n, 1))
    i = 0
    for c, cx, label in ((0, 2.0, 1.0), (1, -2.0, 0.0)):
        for _ in range(_class_count(n, 2, c)):
            x[i, 0] = rng.normal(cx, std)
            x[i, 1] = rng.normal(cx, std)
            y[i, 0] = label
            i += 1
    return x, y
`,
      };
    case 'spiral':
      return {
        files: [],
        code:
          CLASS_COUNT +
          String.raw`

def _source(path=None):
    """spiral(n, classes, noise, seed): one arm per class, r = 5 i/m, angle 3.5 pi i/m + 2 pi c/classes."""
    n, classes, noise, rng = ${spec.n}, ${spec.classes}, ${pyFloat(spec.noise)}, Rng(${pyFloat(spec.seed)})
    x = np.zeros((n, 2))
    y = np.zeros((n, classes))
    i = 0
    for c in range(classes):
        m = _class_count(n, classes, c)
        delta = (2 * math.pi * c) / classes
        for j in range(m):
            r = (j / m) * 5
            t = ((1.75 * j) / m) * 2 * math.pi + delta
            x[i, 0] = r * math.sin(t) + rng.range(-1, 1) * noise
            x[i, 1] = r * math.cos(t) + rng.range(-1, 1) * noise
            y[i, c] = 1.0
            i += 1
    return x, y
`,
      };
    case 'digits16': {
      const pixels = new Uint8Array(ds.x.length);
      for (let i = 0; i < ds.x.length; i++) {
        const p = Math.round(ds.x[i] * 255);
        if (p / 255 !== ds.x[i]) throw new Error(`digits16: pixel ${i} is not a byte / 255`);
        pixels[i] = p;
      }
      const labels = new Uint8Array(ds.n);
      for (let e = 0; e < ds.n; e++) labels[e] = ds.y.subarray(e * 10, e * 10 + 10).indexOf(1);
      const file = `${d.decl.name}.npz`;
      return {
        files: [{ name: file, bytes: npz({ pixels: { dtype: 'uint8', shape: [ds.n, ...ds.xShape], data: pixels }, labels: { dtype: 'uint8', shape: [ds.n], data: labels } }) }],
        code: String.raw`
def _source(path=None):
    """digits16(limit, seed): the ${ds.n} digits nnlens picked, saved beside this file as bytes (value = byte / 255)."""
    with np.load(path or os.path.join(HERE, ${pyString(file)})) as f:
        pixels, labels = f["pixels"], f["labels"]
    x = pixels.astype(np.float64) / 255
    y = np.eye(10)[labels]
    return x, y
`,
      };
    }
    case 'table': {
      const file = `${d.decl.name}.npz`;
      return {
        files: [{ name: file, bytes: npz({ x: { dtype: 'float64', shape: [ds.n, ...ds.xShape], data: ds.x }, y: { dtype: 'float64', shape: [ds.n, ...ds.yShape], data: ds.y } }) }],
        code: String.raw`
def _source(path=None):
    """The file's table, saved beside this file."""
    with np.load(path or os.path.join(HERE, ${pyString(file)})) as f:
        return f["x"], f["y"]
`,
      };
    }
    case 'csv': {
      const rel = relative(d.projectDir, d.csvPath!).split('\\').join('/');
      const label = spec.label === null ? 'None' : typeof spec.label === 'number' ? String(spec.label) : pyString(spec.label);
      return {
        files: [],
        code: String.raw`
CSV = os.path.join(HERE, ${pyString(rel)})  # the .nn file's ${pyString(spec.path)}, from this folder


def _source(path=None):
    """csv(${pyString(spec.path)}, label: ${label}, classes: ${spec.classes ?? 'None'}, normalize: ${spec.normalize ? 'true' : 'false'}), as nnlens reads it (engine/data/csv.ts):
    a header row; the label column${spec.label === null ? ' (the last one)' : ''}; ${spec.classes === null ? 'a numeric label' : 'integer labels are class indices, other labels class names numbered in order of first appearance'};${spec.normalize ? '\n    every feature column z-scored over all rows (population standard deviation; a constant column becomes 0).' : ''}"""
    label, classes, normalize = ${label}, ${spec.classes ?? 'None'}, ${spec.normalize ? 'True' : 'False'}
    with open(path or CSV, newline="", encoding="utf-8-sig") as f:
        rows = [[field.strip() for field in row] for row in csv.reader(f)]
    rows = [r for r in rows if any(r)]
    header, rows = rows[0], rows[1:]
    lab = len(header) - 1 if label is None else label if isinstance(label, int) else header.index(label)
    x = np.array([[float(v) for c, v in enumerate(r) if c != lab] for r in rows], dtype=np.float64)
    labels = [r[lab] for r in rows]
    if classes is None:
        y = np.array([[float(v)] for v in labels], dtype=np.float64)
    else:
        def integer(v):
            try:
                return float(v).is_integer()
            except ValueError:
                return False
        if all(integer(v) for v in labels):
            index = [int(float(v)) for v in labels]
        else:
            names = {}
            for v in labels:
                names.setdefault(v, len(names))
            index = [names[v] for v in labels]
        y = np.eye(classes)[index]
    if normalize:
        mean = x.mean(axis=0)
        std = np.sqrt(((x - mean) ** 2).mean(axis=0))
        x = (x - mean) / np.where(std > 0, std, 1.0)
    return x, y
`,
      };
    }
  }
}

export function emitData(d: DataInput): DataCode {
  const src = sourceCode(d);
  const oneHot = d.dataset.oneHot;
  const text = [
    `"""The data of the train block: ${d.text}`,
    '',
    '    from data import load, split',
    '    full = load()                   # a torch Dataset of (x, t) pairs',
    `    train, validation = split(full)  # as nnlens splits it: split ${pyFloat(d.split)}, seed ${d.splitSeed}${d.split < 1 ? '' : ' (no validation)'}`,
    '"""',
    ...(d.decl.spec.kind === 'csv' ? ['import csv'] : []),
    'import math',
    'import os',
    '',
    'import numpy as np',
    'import torch',
    '',
    'HERE = os.path.dirname(os.path.abspath(__file__))',
    `SPLIT = ${pyFloat(d.split)}  # the fraction of the examples used for training`,
    `SPLIT_SEED = ${d.splitSeed}  # nnlens derives it from the train block's seed`,
    `ONE_HOT = ${oneHot ? 'True' : 'False'}  # labels are one-hot class vectors`,
    `X_SHAPE = (${d.dataset.xShape.join(', ')}${d.dataset.xShape.length === 1 ? ',' : ''})`,
    `Y_SHAPE = (${d.dataset.yShape.join(', ')}${d.dataset.yShape.length === 1 ? ',' : ''})`,
    RNG,
    src.code,
    '',
    'class NNData(torch.utils.data.Dataset):',
    '    """Examples (x, t) as float tensors: x of shape X_SHAPE, t of shape Y_SHAPE."""',
    '',
    '    def __init__(self, x, y, dtype=torch.float32):',
    '        self.x = torch.as_tensor(np.ascontiguousarray(x), dtype=dtype)',
    '        self.y = torch.as_tensor(np.ascontiguousarray(y), dtype=dtype)',
    '',
    '    def __len__(self):',
    '        return len(self.x)',
    '',
    '    def __getitem__(self, i):',
    '        return self.x[i], self.y[i]',
    '',
    '    def subset(self, idx):',
    '        return NNData(self.x[idx], self.y[idx], self.x.dtype)',
    '',
    '',
    'def load(path=None, dtype=torch.float32):',
    `    """The whole data set${d.decl.spec.kind === 'csv' ? ' (path: another csv file of the same layout)' : ''}."""`,
    '    x, y = _source(path)',
    '    return NNData(x.reshape((len(x),) + X_SHAPE), y.reshape((len(y),) + Y_SHAPE), dtype)',
    '',
    '',
    'def split(ds, fraction=SPLIT, seed=SPLIT_SEED):',
    '    """(train, validation) as nnlens splits (engine/data/batching.ts): a seeded permutation picks',
    '    round(n * fraction) examples (at least 1) for training; each part keeps the original order.',
    '    validation is None when every example trains."""',
    '    n = len(ds)',
    '    n_train = min(n, max(1, math.floor(n * fraction + 0.5)))',
    '    if n_train == n:',
    '        return ds, None',
    '    perm = Rng(seed).shuffle(list(range(n)))',
    '    return ds.subset(sorted(perm[:n_train])), ds.subset(sorted(perm[n_train:]))',
    '',
  ].join('\n');
  return { text, files: src.files };
}
