// Byte copies inside the wasm memory.

/**
 * Copies bytes; small copies by words, since memory.copy is a call out of the wasm code
 * that costs more than a few word moves.
 */
@inline export function copyBytes(dst: usize, src: usize, len: u32): void {
  if (len > 64) {
    memory.copy(dst, src, len);
    return;
  }
  let n = len;
  while (n >= 8) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
    n -= 8;
  }
  while (n > 0) {
    store<u8>(dst, load<u8>(src));
    dst++;
    src++;
    n--;
  }
}
