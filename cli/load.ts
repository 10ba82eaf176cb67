/** Reading the files the CLI is given, with usage errors (exit 2) for what cannot be used. */
import { readFileSync, statSync } from 'node:fs';
import { analyzeFile, type Analysis } from '../language';
import { UsageError } from './tensorJson';

export function requireFile(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${what} ${path} does not exist`);
  }
  if (!st.isFile()) throw new UsageError(`${what} ${path} is not a file`);
}

/** A folder the command is given (`--workspace DIR`): a usage error when it is not one. */
export function requireDir(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${what} ${path} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`${what} ${path} is not a folder`);
}

export async function analyzeCliFile(file: string, workspaceRoot?: string): Promise<Analysis> {
  if (workspaceRoot !== undefined) requireDir(workspaceRoot, '--workspace');
  requireFile(file, 'file');
  return analyzeFile(file, workspaceRoot ? { workspaceRoot } : {});
}

/** Reads a JSON object file; throws UsageError naming the file and the problem. */
export function readJsonObject(path: string, what: string): Record<string, unknown> {
  requireFile(path, what);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UsageError(`${what} ${path} must hold a JSON object of named tensors`);
  }
  return v as Record<string, unknown>;
}
