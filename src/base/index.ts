/**
 * base: what every layer stands on. PmemError with its errno-style codes, and the seeded
 * generator (xoshiro128**) behind every random choice.
 *
 * May import: nothing in src/.
 */
export { ERRNO, PmemError, checkInteger, type ErrnoName, type PmemErrorCode } from './errors.js';
export { Rng } from './random.js';
