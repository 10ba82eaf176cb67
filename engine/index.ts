/**
 * The engine's public API. Everything numeric of NN Lens: the IR it consumes, the executor
 * (forward/backward of every op over a Backend), user functions, parameter init, the gradient
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
export { sizeOf, formatIndex, formatShape, broadcastShapes, inferShape } from './exec/shape';

// user functions, init
export { compileFunctions, evalScalarExpr, FunctionLib, type CompiledFunction, type ScalarFn } from './functions';
export { initParams, initParam, paramSeed, fans } from './init';

// checking and evaluation
export * from './check/index';
export { evaluateModel, lossAndGrads, Evaluation, type EvaluateOptions, type ValueInfo, type LineValues } from './evaluate';

// kernels and data
export * from './kernels/index';
export * from './data/index';

// training
export * from './train/index';
