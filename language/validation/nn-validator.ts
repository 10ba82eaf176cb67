/**
 * Registers the language's checks, one file per concern (names, functions and consts, model
 * structure, shapes, initializers, train/check options, data sources, data binding).
 */
import type { ValidationAcceptor, ValidationChecks } from 'langium';
import type { NnAstType } from '../generated/ast';
import type { NnServices } from '../nn-module';
import { checkBinding } from './binding';
import { checkData } from './data';
import { checkConsts, checkFunction } from './functions';
import { checkInit } from './inits';
import { checkModelStructure } from './models';
import { checkFunctionNames, checkModelNames, checkProgramNames } from './names';
import { checkModelShapes } from './shapes';
import { checkBlocksPerModel, checkCheck, checkTrain } from './training';

export function registerValidationChecks(services: NnServices): void {
  const registry = services.validation.ValidationRegistry;
  const cache = services.analysis.Cache;
  const contexts = services.analysis.DataContext;
  const checks: ValidationChecks<NnAstType> = {
    Program: [
      (p, accept: ValidationAcceptor) => checkProgramNames(p, accept),
      (p, accept) => checkConsts(cache, p, accept),
      (p, accept) => checkBlocksPerModel(p, accept),
    ],
    FunctionDecl: [(f, accept) => checkFunctionNames(f, accept), (f, accept) => checkFunction(cache, f, accept)],
    ModelDecl: [
      (m, accept) => checkModelNames(m, accept),
      (m, accept) => checkModelStructure(cache, m, accept),
      (m, accept) => checkModelShapes(cache, m, accept),
    ],
    ParamDecl: (p, accept) => checkInit(cache, p, accept),
    DataDecl: (d, accept) => checkData(cache, contexts, d, accept),
    TrainDecl: [(t, accept) => checkTrain(cache, t, accept), (t, accept) => checkBinding(cache, contexts, t, accept)],
    CheckDecl: [(c, accept) => checkCheck(cache, c, accept), (c, accept) => checkBinding(cache, contexts, c, accept)],
  };
  registry.register(checks);
}
