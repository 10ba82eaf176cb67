/** A small argv parser: positionals, `--flag`, `--key value` and `--key=value`. */
import { UsageError } from './tensorJson';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], valued: readonly string[], boolean: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') || (a.startsWith('-') && a.length === 2 && Number.isNaN(Number(a)))) {
      const eq = a.indexOf('=');
      const name = (eq >= 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
      const key = name === 'o' ? 'out' : name === 'h' ? 'help' : name;
      if (valued.includes(key)) {
        const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`option --${key} needs a value`);
        flags.set(key, value);
      } else if (boolean.includes(key)) {
        if (eq >= 0) throw new UsageError(`option --${key} takes no value`);
        flags.set(key, true);
      } else {
        throw new UsageError(`unknown option ${a}`);
      }
    } else positionals.push(a);
  }
  return { positionals, flags };
}

export function stringFlag(args: ParsedArgs, key: string): string | undefined {
  const v = args.flags.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** A numeric option (`--epochs 5`, `--lr=0.1`); a value that is not a number is a usage error. */
export function numberFlag(args: ParsedArgs, key: string): number | undefined {
  const v = stringFlag(args, key);
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number, not ${JSON.stringify(v)}`);
  return n;
}
