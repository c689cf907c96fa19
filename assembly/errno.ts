// errno numbers, as Linux numbers them; the host maps them back to names (src/base/errors.ts).
export const EBADF: i32 = 9;
export const ENOMEM: i32 = 12;
export const EFAULT: i32 = 14;
export const EBUSY: i32 = 16;
export const EEXIST: i32 = 17;
export const EINVAL: i32 = 22;
export const ENOSPC: i32 = 28;
export const ERANGE: i32 = 34;
export const EDEADLK: i32 = 35;
export const EOPNOTSUPP: i32 = 95;
