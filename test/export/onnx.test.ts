/**
 * `nnlens export --to onnx`: the protobuf writer against the wire format's documented bytes; every
 * parity model and every example model exported and run in onnxruntime-node, its output and each
 * example's loss against the engine's float64 evaluation (float32 tolerance), and the examples' output
 * against `nnlens trace` on one example; the ONNX checker
 * (Debian's python3-onnx, `full_check` with shape inference) on every file; the CLI's file (dynamic
 * batch axis, names, --weights).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, test } from 'vitest';
import { evaluateModel, initParams, type IRModel, type IRProgram } from '../../engine/index';
import { analyzeFile } from '../../language/index';
import { exportOnnx } from '../../cli/export/onnx/index';
import { ProtoWriter } from '../../cli/export/onnx/protobuf';
import { modelOutput } from '../../cli/export/output';
import { PARITY, PYTHON, ROOT, batchJson, flat, jsonOf, nnlens, paramsJson, perturbed, requireBuiltCli, tempDir, writeJson, type Nested, type TargetKind } from '../parity/harness';
import { PARITY_MODELS } from '../parity/models';

const EXAMPLES = join(ROOT, 'examples');
/** float32 through a few layers: |onnx − engine| ≤ TOL · max(1, |engine|). */
const TOL = 2e-5;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the protobuf writer writes the wire format', () => {
  test('varints, negative int64, strings, floats and nested messages as protobuf.dev documents them', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('089601'); // the encoding guide's first example
    expect(hex(new ProtoWriter().int(1, 1).finish())).toBe('0801');
    expect(hex(new ProtoWriter().int(3, -1).finish())).toBe('18ffffffffffffffffff01'); // ten bytes, two's complement
    expect(hex(new ProtoWriter().int(3, -2).finish())).toBe('18feffffffffffffffff01');
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67'); // the guide's string example
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe('150000803f');
    expect(hex(new ProtoWriter().int(1, 2 ** 40).finish())).toBe('08808080808020');
    // a nested message: field 3, length 3, the inner message 08 96 01 (the guide's embedded-message example)
    expect(hex(new ProtoWriter().message(3, (w) => w.int(1, 150)).finish())).toBe('1a03089601');
    expect(() => new ProtoWriter().int(1, 2 ** 60)).toThrow(/not a safe integer/);
  });
});

interface Case {
  key: string;
  program: IRProgram;
  model: IRModel;
  targets: TargetKind;
}

async function load(file: string, name: string, targets: TargetKind): Promise<Case> {
  const { program, diagnostics } = await analyzeFile(file);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${file}: ${errors.map((d) => d.message).join('; ')}`);
  const model = program.models.find((m) => m.name === name);
  if (!model) throw new Error(`${file} has no model ${name}`);
  return { key: name, program, model, targets };
}

/** Runs an ONNX file on a batch; returns every output, flat. */
async function runOnnx(path: string, feeds: Record<string, { data: ArrayLike<number>; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(path);
  const inputs: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) inputs[name] = new ort.Tensor('float32', Float32Array.from(feeds[name].data), feeds[name].dims);
  const out = await session.run(inputs);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
}

function worst(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    w = Math.max(w, Number.isNaN(e) ? Infinity : e);
  }
  return w;
}

/** Export edge cases (test/export/cases/edges.nn) and the exact script's awkward names (test/parity/export-cases). */
const EDGE_CASES: [string, string, TargetKind][] = [
  [join(__dirname, 'cases', 'edges.nn'), 'Edges', 'normal'],
  [join(__dirname, 'cases', 'edges.nn'), 'Constant', 'normal'],
  [join(PARITY, 'export-cases', 'awkward.nn'), 'Awkward', 'normal'],
  [join(PARITY, 'export-cases', 'awkward.nn'), 'Edge', 'normal'],
];

const EXAMPLE_CASES: [string, string, TargetKind][] = [
  ['digits.nn', 'Digits', 'onehot'],
  ['data.nn', 'Iris', 'onehot'],
  ['functions.nn', 'Ring', 'binary'],
  ['xor.nn', 'Xor', 'binary'],
  ['byhand.nn', 'ByHand', 'binary'],
  ['training.nn', 'M', 'binary'],
];

describe('every parity and example model in onnxruntime-node equals the engine (float64) to float32 tolerance', () => {
  const dir = tempDir('onnx');
  const cases: Case[] = [];
  const results = new Map<string, { output: number; loss: number; values: number; ops: string[]; outputName: string }>();

  beforeAll(async () => {
    for (const m of PARITY_MODELS) cases.push(await load(join(PARITY, 'models', m.file), m.model, m.targets));
    for (const [f, name, kind] of EXAMPLE_CASES) cases.push(await load(join(EXAMPLES, f), name, kind));
    for (const [f, name, kind] of EDGE_CASES) cases.push(await load(f, name, kind));
    for (const [i, c] of cases.entries()) {
      const weights = perturbed(initParams(c.model, 0), 0.2, 700 + i);
      const B = batchJson(c.model, 5, c.targets, 800 + i);
      const batch = { n: 5, data: Object.fromEntries(Object.entries(B).map(([k, v]) => [k, Float64Array.from(flat(v))])) };
      const ev = evaluateModel(c.program, c.model, weights, batch);
      const out = modelOutput(c.model)!;
      const exported = exportOnnx(c.program, c.model, { weights, withLoss: true, allValues: true });
      const path = join(dir, `${c.key}.onnx`);
      writeFileSync(path, exported.bytes);
      const feeds = Object.fromEntries(
        [...c.model.inputs, ...c.model.targets].map((d) => [d.name, { data: batch.data[d.name], dims: [5, ...d.shape] }]),
      );
      const got = await runOnnx(path, feeds);
      const outNode = c.model.nodes[out.node];
      expect(got[out.name].dims).toEqual([...(outNode.batched ? [5] : []), ...outNode.shape]);
      expect(got[c.model.loss.name].dims).toEqual([5]);
      // every named value the graph computes, too
      let values = 0;
      for (const o of exported.outputs.slice(2)) values = Math.max(values, worst(got[o.name].data, ev.node(o.node).value));
      results.set(c.key, {
        output: worst(got[out.name].data, ev.node(out.node).value),
        loss: worst(got[c.model.loss.name].data, ev.losses),
        values,
        ops: exported.opTypes,
        outputName: out.name,
      });
    }
  });

  const ALL = [...PARITY_MODELS.map((m) => m.model), ...EXAMPLE_CASES.map((e) => e[1]), ...EDGE_CASES.map((e) => e[1])];
  test('every parity model, every example model and the edge cases are covered', () => {
    expect(cases.map((c) => c.key)).toEqual(ALL);
  });

  test.each(ALL)('%s', (key) => {
    const r = results.get(key)!;
    console.info(
      `onnx ${key}: output ${r.outputName} max error ${r.output.toExponential(2)}, loss ${r.loss.toExponential(2)}, ` +
        `named values ${r.values.toExponential(2)}; ops ${r.ops.join(' ')}`,
    );
    expect(r.output).toBeLessThanOrEqual(TOL);
    expect(r.values).toBeLessThanOrEqual(TOL);
    expect(r.loss).toBeLessThanOrEqual(TOL);
  });

  test('the ONNX operators used', () => {
    const ops = [...new Set([...results.values()].flatMap((r) => r.ops))].sort();
    console.info(`onnx operators used by the ${results.size} models: ${ops.join(', ')}`);
    // every op family of the language shows up
    for (const op of ['Gemm', 'MatMul', 'Softmax', 'LogSoftmax', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'Transpose', 'Softplus', 'LeakyRelu', 'Pow', 'Where', 'Expand'])
      expect(ops).toContain(op);
  });

  const onnxMissing = (() => {
    const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
    const why = r.status === 0 ? null : `${PYTHON} cannot import onnx`;
    if (why) console.warn(`ONNX checker test SKIPPED: ${why}`);
    return why;
  })();

  test.skipIf(onnxMissing !== null)(`onnx.checker.check_model(full_check=True) accepts every file (${onnxMissing ?? 'python3-onnx'})`, () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
    expect(files.length).toBe(cases.length);
    const script = [
      'import json, sys, onnx',
      'out = {}',
      'for f in sys.argv[1:]:',
      '    m = onnx.load(f)',
      '    onnx.checker.check_model(m, full_check=True)',
      '    out[f] = [m.ir_version, m.opset_import[0].version, [i.name for i in m.graph.input], [o.name for o in m.graph.output]]',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script, ...files.map((f) => join(dir, f))], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, [number, number, string[], string[]]>;
    for (const c of cases) {
      const [ir, opset, inputs, outputs] = out[join(dir, `${c.key}.onnx`)];
      expect([ir, opset]).toEqual([7, 13]);
      expect(inputs).toEqual([...c.model.inputs, ...c.model.targets].map((d) => d.name));
      if (c.key === 'Edges') expect(outputs[0]).toBe('output'); // the loss reads an expression without a name
      expect(outputs.slice(0, 2)).toEqual([modelOutput(c.model)!.name, c.model.loss.name]);
    }
  });
});

describe('nnlens export --to onnx -o OUT.onnx', () => {
  beforeAll(requireBuiltCli);
  const dir = tempDir('onnx-cli');

  test.each([
    ['digits.nn', 'Digits'],
    ['data.nn', 'Iris'],
    ['functions.nn', 'Ring'],
  ])('%s: at --weights W.json, the output of `nnlens trace` on one example (float32 tolerance)', async (f, name) => {
    const file = join(EXAMPLES, f);
    const { model } = await load(file, name, 'normal');
    const weights = perturbed(initParams(model, 3), 0.1, 17);
    const W = writeJson(join(dir, `${name}.W.json`), paramsJson(model, weights));
    const out = join(dir, `${name}.onnx`);
    const r = nnlens(['export', file, '--model', name, '--to', 'onnx', '--weights', W, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const trace = jsonOf<{ nodes: { name: string; value: Nested }[] }>(
      nnlens(['trace', file, '--model', name, '--example', '5', '--weights', W, '--json']),
      `nnlens trace ${name}`,
    );
    const node = (n: string) => trace.nodes.find((x) => x.name === n)!;
    const x = model.inputs[0];
    const got = await runOnnx(out, { [x.name]: { data: flat(node(x.name).value), dims: [1, ...x.shape] } });
    const output = modelOutput(model)!.name;
    const err = worst(got[output].data, flat(node(output).value));
    console.info(`onnx ${name} against nnlens trace (example 5): max error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(TOL);
  });

  test('digits: input x, output y, a dynamic batch axis; at --weights W.json it computes the engine’s y', async () => {
    const { program, model } = await load(join(EXAMPLES, 'digits.nn'), 'Digits', 'onehot');
    const weights = perturbed(initParams(model, 42), 0.05, 5);
    const W = writeJson(join(dir, 'W.json'), paramsJson(model, weights));
    const out = join(dir, 'digits.onnx');
    const r = nnlens(['export', join(EXAMPLES, 'digits.nn'), '--model', 'Digits', '--to', 'onnx', '--weights', W, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/wrote .*digits\.onnx \(model Digits: x \[batch, 256\] → y \[batch, 10\]/);
    const session = await ort.InferenceSession.create(out);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    for (const n of [1, 7]) {
      const B = batchJson(model, n, 'onehot', 90 + n);
      const x = Float64Array.from(flat(B.x));
      const got = await runOnnx(out, { x: { data: x, dims: [n, 256] } });
      expect(got.y.dims).toEqual([n, 10]);
      const ev = evaluateModel(program, model, weights, { n, data: { x, t: Float64Array.from(flat(B.t)) } });
      expect(worst(got.y.data, ev.values.get('y')!.value)).toBeLessThanOrEqual(TOL);
    }
    // the file names the model and where it came from; params keep their names
    const bytes = readFileSync(out).toString('latin1');
    for (const s of ['nnlens', 'W1', 'b1', 'W2', 'b2', 'z1 = W1 @ x + b1']) expect(bytes).toContain(s);
  });
});
