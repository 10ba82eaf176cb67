// The WebAssembly module's entry point: everything it exports (compiled by scripts/gen-wasm.mjs).
export { gemm, scratchBytes, listBytes, heapBase, setSparse, sparseProducts } from './gemm';
export { axpby, axpbyKeep, adam, firstNonFinite } from './update';
export { unary, unaryBackward, softmaxRows } from './activation';
export { addBias, biasGradient, gatherRows } from './rows';
export { crossEntropyRows, crossEntropyBackward } from './loss';
