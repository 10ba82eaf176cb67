export {
  checkModel,
  type CheckRunOptions,
  type CheckReport,
  type ParamCheck,
  type BackwardLineDetail,
  type KinkDetail,
} from './check';
export { checkFunctions, checkFunctionLines, checkFunctionLine, gridPoints, type FunctionLineDetail, type FunctionCheckOptions } from './functions';
export { randomBatch, targetKind, type TargetKind } from './batch';
export { relError, describePattern, fmtNum, fmtErr, fmtTol } from './compare';
export { lossRoundoff, numericFloor } from './noise';
export { dedupeFindings } from './codes';
