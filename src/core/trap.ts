/**
 * The wasm boundary's last guard. The host checks every argument before it calls the core,
 * so a trap in the core (an `unreachable`, an out-of-bounds access, an assertion of the
 * debug build) is a daxemu bug, never the caller's mistake. Such a trap reaches the user as
 * a PmemError EFAULT that names the core function and its arguments, to report, rather than
 * as a bare WebAssembly.RuntimeError.
 */
import { PmemError } from '../base/index.js';

/** A core call that trapped, as a bug report. */
export function coreTrap(build: string, name: string, args: readonly unknown[], error: unknown): PmemError {
  const why = error instanceof Error ? error.message : String(error);
  const trap = new PmemError('EFAULT', `the ${build} core trapped in ${name}(${args.join(', ')}): ${why}; this is a daxemu bug, please report the call that led to it`);
  trap.cause = error;
  return trap;
}

/**
 * The exports with every function wrapped so that a trap becomes coreTrap's EFAULT. The
 * wrappers keep each function's arity, so a call costs what it did (V8 inlines them); the
 * globals pass through as they are.
 */
export function guardTraps<E extends object>(exports: E, build: string): E {
  const guarded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function') {
      guarded[name] = value;
      continue;
    }
    const f = value as (...args: number[]) => number;
    if (f.length > 5) throw new Error(`guardTraps: ${name} takes ${f.length} arguments; the wrapper passes five`);
    const fail = (args: readonly unknown[], error: unknown): never => {
      // An Error the host raised on purpose (an abort turned into a message) passes on; only traps are wrapped.
      if (error instanceof WebAssembly.RuntimeError || (error instanceof Error && error.message.startsWith('daxemu core'))) throw coreTrap(build, name, args, error);
      throw error;
    };
    guarded[name] = (a: number, b: number, c: number, d: number, e: number): number => {
      try {
        return f(a, b, c, d, e);
      } catch (error) {
        return fail([a, b, c, d, e].slice(0, f.length), error);
      }
    };
  }
  return guarded as E;
}
