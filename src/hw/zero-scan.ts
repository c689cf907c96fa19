/**
 * Whether a piece of the media is all zeros, without making its pages resident: a read of
 * a page the process never wrote maps the kernel's zero page and costs no memory. Under
 * Node a memcmp against zeros (Buffer.equals) does it fastest; in a browser, where there is
 * no Buffer, a loop over 32-bit words does the same more slowly.
 */
type NodeBufferClass = { from(buffer: ArrayBufferLike, offset: number, length: number): { equals(other: Uint8Array): boolean }; alloc(n: number): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;
const zeros = new Map<number, Uint8Array>();

/** Whether every byte of `view` is 0. */
export function isAllZero(view: Uint8Array): boolean {
  if (NodeBuffer) {
    let zero = zeros.get(view.byteLength);
    if (!zero) zeros.set(view.byteLength, (zero = NodeBuffer.alloc(view.byteLength)));
    return NodeBuffer.from(view.buffer, view.byteOffset, view.byteLength).equals(zero);
  }
  const aligned = view.byteOffset % 4 === 0 ? view.byteLength >>> 2 : 0;
  const words = new Uint32Array(view.buffer, view.byteOffset, aligned);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = aligned * 4; i < view.byteLength; i++) if (view[i] !== 0) return false;
  return true;
}
