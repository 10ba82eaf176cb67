/** The parity models (test/parity/models/*.nn) and the kind of targets their losses read. */
import type { TargetKind } from './harness';

export const PARITY_MODELS: { file: string; model: string; targets: TargetKind }[] = [
  { file: 'classifier.nn', model: 'Classifier', targets: 'onehot' },
  { file: 'matrices.nn', model: 'Matrices', targets: 'normal' },
  { file: 'binary.nn', model: 'Binary', targets: 'binary' },
  { file: 'probabilities.nn', model: 'Probabilities', targets: 'soft' },
  { file: 'functions.nn', model: 'Functions', targets: 'normal' },
  { file: 'straight_through.nn', model: 'StraightThrough', targets: 'normal' },
  { file: 'matmul_forms.nn', model: 'MatmulForms', targets: 'normal' },
  { file: 'activations.nn', model: 'Activations', targets: 'normal' },
  { file: 'comparisons.nn', model: 'Comparisons', targets: 'normal' },
];
