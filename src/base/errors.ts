/**
 * PmemError: the one error type daxemu throws. `code` is an errno-style name
 * (EINVAL, ENOMEM, ENOSPC, EFAULT, EOPNOTSUPP, EBUSY, EBADF, SIGBUS, ...), the message
 * names the offending argument. A call refused with an errno code leaves the emulator as it
 * was: media, clock and counters. SIGBUS is not a refusal but a fault that an access took,
 * as on hardware: what the access did before it reached the page beyond the end of the
 * file stays done (a store that crosses the end writes the bytes before it), and the fault
 * itself is counted and traced.
 */

/**
 * errno numbers by name: those the wasm core returns (negated, inside an XA_ERROR word), and
 * the host's own (EIO, EFBIG, EBADMSG) for files it reads and sizes it refuses.
 */
export const ERRNO = {
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  ERANGE: 34,
  EDEADLK: 35,
  EBADMSG: 74,
  EOPNOTSUPP: 95,
} as const;

export type ErrnoName = keyof typeof ERRNO;
/** Codes that are not errno values: a bus error delivered to the faulting access. */
export type PmemErrorCode = ErrnoName | 'SIGBUS';

const NAME_OF_ERRNO = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([name, n]) => [n, name]),
);

export class PmemError extends Error {
  readonly code: PmemErrorCode;
  /** The numeric errno, or 0 for SIGBUS. */
  readonly errno: number;

  constructor(code: PmemErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'PmemError';
    this.code = code;
    this.errno = code === 'SIGBUS' ? 0 : ERRNO[code];
  }

  /** Builds the error for a positive errno number returned by the core. */
  static fromErrno(errno: number, message: string): PmemError {
    return new PmemError(NAME_OF_ERRNO.get(errno) ?? 'EINVAL', message);
  }
}

/** Throws EINVAL unless `value` is an integer in [min, max]; `what` names the argument. */
export function checkInteger(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PmemError('EINVAL', `${what} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}
