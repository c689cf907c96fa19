/**
 * base: what every layer stands on. PmemError with its errno-style codes, the seeded
 * generator (xoshiro128**) behind every random choice, and Symbol.dispose where the
 * runtime lacks it.
 *
 * May import: nothing in src/.
 */
export { ERRNO, PmemError, checkInteger, type ErrnoName, type PmemErrorCode } from './errors.js';
export { Rng } from './random.js';
export { DISPOSE } from './dispose.js';
