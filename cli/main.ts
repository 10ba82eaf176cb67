/**
 * `nnlens`: the command-line face of the language and the engine (spec §8).
 * Exit status: 0 when there is no error, 1 when the file has errors, 2 on unusable arguments.
 */
import { numberFlag, parseArgs, stringFlag, type ParsedArgs } from './args';
import { runCheck } from './check';
import { runExport } from './export';
import { runGrad } from './grad';
import { runTrain } from './train';
import { runTrace } from './trace';
import { runGraph } from './graph';
import { runLsp } from './lsp';
import { runDap } from './dap';
import { UsageError } from './tensorJson';

declare const NNLENS_VERSION: string | undefined;

export const HELP = `nnlens — neural networks in .nn files: shapes checked, gradients checked, models trained

Usage:
  nnlens check FILE [--json] [--mode fast|full] [--workspace DIR]
      Parse, type-check and gradient-check every model, and report its gradient health
      (vanishing or exploding gradients, dead relu units: warnings). Exit 0 without errors,
      1 with errors, 2 on unusable arguments (a --workspace that is not a folder, among others). --json prints one object:
      {"file", "diagnostics": [{severity, line, column, endLine, endColumn, code, message}],
       "models": {NAME: {"loss", "params": {P: {"shape", "maxRelError"}}}}}
      Default mode: the check block's, else full (fast above 200,000 parameters).

  nnlens grad FILE --model NAME --params P.json --batch B.json [--json]
      The loss and exact float64 gradients at the given parameters on the given batch:
      {"loss": number, "grads": {"W1": nested arrays, …}}.
      P.json: {"W1": nested arrays, …} (dense params as "h.W"); B.json: {"x": [example, …], "t": […]}.

  nnlens train FILE [--model NAME] [--json] [--workspace DIR] [--epochs N] [--lr X]
                    [--batch N] [--seed N] [--threads N|auto] [--resume W.json]
      Train as the file's train block says: a progress bar and a loss curve on a terminal,
      one JSON object per epoch with --json. Writes NAME.weights.json next to the file.
      --epochs, --lr, --batch, --seed and --threads override the train block's options;
      --resume starts from the weights in W.json (the P.json format) instead of the initial ones.
      Exit 0 when done; 130 when stopped by Ctrl-C (the weights after the last step are
      written); 3 with a warning when the run diverged: the loss became NaN or infinite (the
      last good weights are written) or the last epoch's loss is 10x its lowest epoch's;
      1 when the file has errors, its gradient check fails or its data cannot be loaded;
      2 on unusable arguments (a --workspace or --resume that does not exist, among others);
      141 when the reader of its output closes the pipe (nnlens train FILE | head).

  nnlens trace FILE --model NAME [--example N] [--weights W.json] [--json]
      The forward and backward pass of one example in float64: every tensor's value and
      its gradient ∂Cⁿ/∂X, the edges between them, the backward block's lines (yours and
      the true values). N is 1-based: row N of the check (else train) block's data, else
      of the random check data. --json: {"model", "example", "loss", "nodes", "edges",
      "backward"}. Exit 1 when the file has errors, 2 on unusable arguments.

  nnlens graph FILE --model NAME [--example N] [--weights W.json] [--level auto|neuron|tensor] [-o OUT.svg]
      The same example drawn as the Backprop view draws it, as a standalone SVG: the forward
      graph left to right and the backward pass as the reversed network, with σ′(z) as
      amplifiers. Neuron level when every layer has at most 32 units, else tensor level.

  nnlens export FILE --model NAME --to pytorch [-o OUT.py] [--weights W.json]
      A standalone PyTorch script that replays nnlens train exactly (to stdout without -o).
  nnlens export FILE --model NAME --to pytorch -o DIR/ [--weights W.json] [--force]
      A PyTorch project: model.py (an nn.Module), data.py, train.py (--device auto|cpu|cuda,
      --amp, torchrun / DistributedDataParallel) and README.md. An existing non-empty DIR/
      needs --force.
  nnlens export FILE --model NAME --to onnx -o OUT.onnx [--weights W.json]
      The forward pass as ONNX (opset 13): the model's input → its output, batch axis dynamic.
      --weights: start from (or, for ONNX, hold) these weights, P.json format. Exit 0 when
      written, 1 when nnlens check rejects the file (nothing written), 2 on unusable arguments
      or an output path that cannot be written.

  nnlens lsp --stdio
      The language server, for any editor that speaks LSP.

  nnlens dap
      The debugger: the Debug Adapter Protocol over stdio (VS Code's debug type nnlens, or
      any DAP client). Launch {"program", "model", "example", "weights", "stopOnEntry",
      "mode": "check"|"train", "stopOnNaN"}: steps through one example's forward and
      backward pass, or trains and stops at the first NaN. See docs/debugging.md.

  nnlens --help | --version
`;

type Command = (args: ParsedArgs) => Promise<number>;

const COMMANDS: Record<string, { valued: string[]; boolean: string[]; run: Command }> = {
  lsp: { valued: ['socket', 'pipe', 'clientProcessId'], boolean: ['stdio', 'node-ipc', 'help'], run: (a) => runLsp(a.flags) },
  dap: { valued: [], boolean: ['stdio', 'help'], run: () => runDap() },
  check: {
    valued: ['mode', 'workspace'],
    boolean: ['json', 'help'],
    run: async (a) => {
      const file = onlyFile(a, 'check');
      const mode = stringFlag(a, 'mode');
      if (mode !== undefined && mode !== 'fast' && mode !== 'full') throw new UsageError(`--mode must be fast or full, not ${mode}`);
      return runCheck(file, { json: a.flags.has('json'), mode, workspaceRoot: stringFlag(a, 'workspace') });
    },
  },
  grad: {
    valued: ['model', 'params', 'batch'],
    boolean: ['json', 'help'],
    run: async (a) =>
      runGrad(onlyFile(a, 'grad'), {
        model: stringFlag(a, 'model'),
        params: stringFlag(a, 'params'),
        batch: stringFlag(a, 'batch'),
        json: a.flags.has('json'),
      }),
  },
  export: {
    valued: ['model', 'to', 'out', 'weights', 'workspace'],
    boolean: ['force', 'help'],
    run: async (a) =>
      runExport(onlyFile(a, 'export'), {
        model: stringFlag(a, 'model'),
        to: stringFlag(a, 'to'),
        out: stringFlag(a, 'out'),
        weights: stringFlag(a, 'weights'),
        force: a.flags.has('force'),
        workspaceRoot: stringFlag(a, 'workspace'),
      }),
  },
  trace: {
    valued: ['model', 'example', 'weights', 'workspace'],
    boolean: ['json', 'help'],
    run: async (a) =>
      runTrace(onlyFile(a, 'trace'), {
        model: stringFlag(a, 'model'),
        example: stringFlag(a, 'example'),
        weights: stringFlag(a, 'weights'),
        workspaceRoot: stringFlag(a, 'workspace'),
        json: a.flags.has('json'),
      }),
  },
  graph: {
    valued: ['model', 'example', 'weights', 'level', 'out', 'workspace'],
    boolean: ['help'],
    run: async (a) =>
      runGraph(onlyFile(a, 'graph'), {
        model: stringFlag(a, 'model'),
        example: stringFlag(a, 'example'),
        weights: stringFlag(a, 'weights'),
        level: stringFlag(a, 'level'),
        out: stringFlag(a, 'out'),
        workspaceRoot: stringFlag(a, 'workspace'),
      }),
  },
  train: {
    valued: ['model', 'workspace', 'epochs', 'lr', 'batch', 'seed', 'threads', 'resume'],
    boolean: ['json', 'help'],
    run: async (a) => {
      const threads = stringFlag(a, 'threads');
      return runTrain(onlyFile(a, 'train'), {
        model: stringFlag(a, 'model'),
        json: a.flags.has('json'),
        workspaceRoot: stringFlag(a, 'workspace'),
        epochs: numberFlag(a, 'epochs'),
        lr: numberFlag(a, 'lr'),
        batch: numberFlag(a, 'batch'),
        seed: numberFlag(a, 'seed'),
        threads: threads === 'auto' ? 'auto' : numberFlag(a, 'threads'),
        resume: stringFlag(a, 'resume'),
      });
    },
  },
};

function onlyFile(a: ParsedArgs, cmd: string): string {
  if (a.positionals.length === 0) throw new UsageError(`nnlens ${cmd} needs a FILE`);
  if (a.positionals.length > 1) throw new UsageError(`nnlens ${cmd} takes one FILE, got ${a.positionals.join(' ')}`);
  return a.positionals[0];
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${typeof NNLENS_VERSION === 'string' ? NNLENS_VERSION : 'dev'}\n`);
    return 0;
  }
  const spec = COMMANDS[cmd];
  if (!spec) {
    process.stderr.write(`nnlens: unknown command ${cmd}\n\n${HELP}`);
    return 2;
  }
  try {
    const args = parseArgs(rest, spec.valued, spec.boolean);
    if (args.flags.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    return await spec.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`nnlens ${cmd}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * A reader that closes the pipe (`nnlens train x.nn | head`) ends the command as it ends any Unix
 * program that writes on: quietly, with 141 (128 + SIGPIPE), instead of an unhandled EPIPE.
 */
export function exitOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exit(141);
    else throw e;
  });
}

if (require.main === module) {
  exitOnClosedPipe(process.stdout);
  exitOnClosedPipe(process.stderr);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`nnlens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70; // EX_SOFTWARE (3 is a diverged training run)
    },
  );
}
