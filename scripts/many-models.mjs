// The generated file of many models that scripts/latency.mjs and scripts/build-phases.mjs time
// (issue 13: a 1,000-line file of 33 models).

/**
 * A file of `n` models of 30 lines each (with their train blocks) after a 10-line header: two
 * consts, two functions (one with a grad line) and two data sets that the models use. n = 33
 * makes a 1,000-line file.
 */
export function manyModels(n) {
  const out = [
    '// generated for scripts/latency.mjs: many models in one file',
    '// (each model is 30 lines with its train block)',
    'const H = 16',
    'const K = 4',
    'function swish(z) = z * sigmoid(z)',
    '  grad z = sigmoid(z) * (1 + z * (1 - sigmoid(z)))',
    'function huber(e) = e^2 / 2',
    'data ring = circle(n: 200, noise: 0.1, seed: 3)',
    'data blobs = gauss(n: 200, noise: 0.5)',
    '',
    '',
  ];
  for (let i = 1; i <= n; i++) {
    const act = ['tanh', 'swish', 'relu'][i % 3];
    out.push(
      `model M${i} {`,
      '  input x: [2]',
      '  target t: [1]',
      '',
      `  param W1: [H, 2] = normal(0, 0.${(i % 9) + 1})`,
      '  param b1: [H] = zeros',
      '  param W2: [H, H] = glorot',
      '  param b2: [H] = zeros',
      '  param W3: [K, H] = he',
      '  param b3: [K] = zeros',
      '  param W4: [1, K] = glorot',
      '  param b4: [1] = zeros',
      '',
      '  z1 = W1 @ x + b1',
      '  a1 = tanh(z1)',
      '  z2 = W2 @ a1 + b2',
      `  a2 = ${act}(z2)`,
      '  z3 = W3 @ a2 + b3',
      '  a3 = sigmoid(z3)',
      '  z4 = W4 @ a3 + b4',
      '  y = sigmoid(z4)',
      `  loss C = ${i % 2 ? 'mse(y, t)' : 'mean(huber(y - t))'}`,
      '}',
      '',
      `train M${i} on ${i % 2 ? 'ring' : 'blobs'} {`,
      `  optimizer: adam(lr: 0.0${(i % 5) + 1})`,
      '  batch: 16',
      `  seed: ${i}`,
      '}',
      '',
    );
  }
  return out.join('\n');
}
