// Zeroing memory without touching what is zero already: a page of the wasm memory that was
// never written costs the process nothing until it is written, and a read of it does not
// make it resident. Filling a fresh region with zeros would make every page of it resident.

/** Whether the `len` bytes at `at` are all zero. */
export function allZero(at: usize, len: usize): bool {
  const end = at + len;
  let p = at;
  for (; p + 8 <= end; p += 8) if (load<u64>(p) != 0) return false;
  for (; p < end; p++) if (load<u8>(p) != 0) return false;
  return true;
}

/** Zeroes `len` bytes at `at` unless they are zero already (a fresh memory's regions are). */
export function zeroUnlessZero(at: usize, len: usize): void {
  if (!allZero(at, len)) memory.fill(at, 0, len);
}
