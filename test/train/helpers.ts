import { dirname, resolve } from 'node:path';
import { analyzeFile, analyzeText } from '../../language/index';
import type { IRModel, IRProgram } from '../../engine/index';

export const ROOT = resolve(__dirname, '../..');

/** A `.nn` text analysed and lowered; fails the test when it has errors. */
export async function lowered(text: string, uri = resolve(ROOT, 'test/train/inline.nn')): Promise<{ program: IRProgram; model: IRModel }> {
  const a = await analyzeText(text, { uri });
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`the test model has errors: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  return { program: a.program, model: a.program.models[0] };
}

export async function example(name: string): Promise<{ program: IRProgram; model: IRModel; ctx: { baseDir: string } }> {
  return analyzedTrainable(resolve(ROOT, 'examples', name), name);
}

/** The spec's §1 listing verbatim (2,000 digits; examples/digits.nn trains on all 10,000). */
export async function specDigits(): Promise<{ program: IRProgram; model: IRModel; ctx: { baseDir: string } }> {
  return analyzedTrainable(resolve(ROOT, 'test/fixtures/spec-digits.nn'), 'spec-digits.nn');
}

async function analyzedTrainable(file: string, name: string): Promise<{ program: IRProgram; model: IRModel; ctx: { baseDir: string } }> {
  const a = await analyzeFile(file);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${name} has errors: ${errors.map((e) => e.message).join('; ')}`);
  const model = a.program.models.find((m) => a.program.trains.some((t) => t.model === m.name))!;
  return { program: a.program, model, ctx: { baseDir: dirname(file) } };
}

/**
 * A softmax written by hand (exp, then divide) trained with far too large an lr: exp overflows,
 * a probability becomes 0, and cross_entropy's log(0) makes the loss explode.
 */
export const EXPLODING_SOFTMAX = `data swirl = spiral(n: 300, classes: 3, noise: 0.1, seed: 2)
model Soft {
  input x: [2]
  target t: [3]
  param W: [3, 2] = glorot
  param b: [3] = zeros
  e = exp(W @ x + b)
  y = e / sum(e)
  loss C = cross_entropy(y, t)
}
train Soft on swirl {
  optimizer: sgd(lr: 400)
  batch: 10
  epochs: 50
  seed: 3
}
`;
