/**
 * The engine's public API. Everything numeric of NN Lens: the IR it consumes, the op catalog
 * (every op's forward, backward, shape rule, messages and emitters), the executor, user functions, parameter init, the gradient
 * checker, the evaluation snapshot for hovers, kernels and data sources.
 *
 * Start reading at exec/program.ts (the executor) and check/check.ts (the checker);
 * docs/engine.md explains the design and the conventions.
 */
export * from './ir';
export { ok, err, type Result } from './result';
export { Codes, CODE_INFO, type Code, type CodeSource, type Severity } from './codes';
export { Rng } from './rng';

// executor
export {
  compileModel,
  CompiledModel,
  type CompileOptions,
  type Batch,
  type GradRefSource,
} from './exec/program';
export { findNonFiniteForward, findNonFiniteBackward, type NonFinite } from './exec/nonfinite';
export { sizeOf, sameShape, fmtShape, broadcastShapes, broadcastConflict, formatIndex } from './shape';
export { fmt } from './format';

// the op catalog
export * as ops from './ops/index';
export { CATALOG, BUILTINS, builtin, infix, inferShape, nodeEntry, type OpEntry, type NodeEntry, type OpName } from './ops/index';

// user functions, init
export { compileFunctions, FunctionLib, type CompiledFunction, type ScalarFn } from './functions';
export { initParams, initParam, paramSeed, fans } from './init';

// checking and evaluation
export * from './check/index';
export { evaluateModel, lossAndGrads, Evaluation, type EvaluateOptions, type ValueInfo, type LineValues } from './evaluate';

// kernels and data
export * from './kernels/index';
export * from './data/index';

// training
export * from './train/index';
