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
