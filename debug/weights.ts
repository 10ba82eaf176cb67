/** Reading a `weights` file of a launch (the `P.json` layout: every param by name, nested arrays). */
import { readFileSync } from 'node:fs';
import type { IRModel } from '../engine/ir';
import { err, ok, type Result } from '../engine/result';
import { fmtShape } from './format';

function shapeOf(v: unknown): number[] | string {
  if (typeof v === 'number') return [];
  if (!Array.isArray(v)) return `expected a number or an array, found ${v === null ? 'null' : typeof v}`;
  if (v.length === 0) return [0];
  const first = shapeOf(v[0]);
  if (typeof first === 'string') return first;
  for (let i = 1; i < v.length; i++) {
    const s = shapeOf(v[i]);
    if (typeof s === 'string') return s;
    if (s.join() !== first.join()) return `a ragged array: [0] is ${fmtShape(first)} but [${i}] is ${fmtShape(s)}`;
  }
  return [v.length, ...first];
}

/** The params of `model` from a P.json file, flat row-major; or why the file cannot be used. */
export function readWeights(path: string, model: IRModel): Result<Record<string, Float64Array>, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return err(`the weights file ${path} does not exist`);
    return err(`cannot read the weights file ${path}: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err(`${path} must hold a JSON object of params by name`);
  const obj = json as Record<string, unknown>;
  const names = model.params.map((p) => p.name);
  const extra = Object.keys(obj).find((k) => !names.includes(k));
  if (extra !== undefined) return err(`${path}: "${extra}" is not a param of ${model.name} (params: ${names.join(', ')})`);
  const out: Record<string, Float64Array> = {};
  for (const p of model.params) {
    if (!(p.name in obj)) return err(`${path}: no value for param "${p.name}" ${fmtShape(p.shape)}`);
    const s = shapeOf(obj[p.name]);
    if (typeof s === 'string') return err(`${path}: "${p.name}" is not a tensor: ${s}`);
    if (s.join() !== p.shape.join()) return err(`${path}: "${p.name}" is ${fmtShape(s)} but the model declares ${fmtShape(p.shape)}`);
    const flat = (obj[p.name] as unknown[]).flat(Infinity) as unknown[];
    const values = p.shape.length === 0 ? [obj[p.name]] : flat;
    if (!values.every((x) => typeof x === 'number' && Number.isFinite(x))) return err(`${path}: "${p.name}" holds a value that is not a finite number`);
    out[p.name] = Float64Array.from(values as number[]);
  }
  return ok(out);
}
