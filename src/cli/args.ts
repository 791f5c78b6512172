/**
 * A small, strict command-line parser: known flags only, each with a kind,
 * so that a typo is an error rather than a silently ignored option.
 */
import { RewindError } from '../../core/errors.js';

export type FlagKind = 'boolean' | 'string' | 'number' | 'size';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | number | boolean>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagKind>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | number | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^-+/, '');
    // Own keys only: --constructor or --__proto__ must not find Object.prototype's members.
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!kind) throw new RewindError('bad-argument', `unknown option ${eq >= 0 ? arg.slice(0, eq) : arg}`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new RewindError('bad-argument', `option --${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new RewindError('bad-argument', `option --${name} needs a value`);
    if (kind === 'number') {
      if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(value))
        throw new RewindError('bad-argument', `option --${name} needs a whole number, got "${value}"`);
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new RewindError('bad-argument', `option --${name}: ${value} is too large`);
      flags.set(name, n);
    } else if (kind === 'size') {
      flags.set(name, parseSize(name, value));
    } else {
      flags.set(name, value);
    }
  }
  return { positional, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags.get(name);
  return typeof v === 'number' ? v : undefined;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A size in bytes: a number with an optional binary unit (512M, 2G, 1.5GiB, 4096). */
function parseSize(name: string, text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new RewindError('bad-argument', `option --${name} needs a size such as 512M or 2G, got "${text}"`);
  return bytes;
}
