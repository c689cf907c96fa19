/**
 * The explorer's form fields, read and checked before anything reaches the emulator. A bad
 * field throws a FieldError naming the field and what it expected; the page shows it as
 * EINVAL, as the emulator would, but the emulator is never called with it.
 */
export class FieldError extends Error {
  readonly code = 'EINVAL';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'FieldError';
  }
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1 << 20, g: 1 << 30 };

/**
 * An unsigned integer as a person types it: decimal, 0x hex, or with a K, M or G suffix
 * (powers of 1024), at most 2^53 - 1 and within [min, max].
 */
export function parseCount(field: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const t = text.trim().toLowerCase();
  let value: number;
  const hex = /^0x([0-9a-f]+)$/.exec(t);
  const dec = /^(\d+)\s*([kmg]?)(?:i?b)?$/.exec(t);
  if (hex) value = parseInt(hex[1]!, 16);
  else if (dec) value = Number(dec[1]) * UNITS[dec[2]!]!;
  else throw new FieldError(field, `expected an integer (decimal, 0x hex, or with K/M/G), got '${text}'`);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new FieldError(field, `expected a value in [${min}, ${max}], got '${text}'`);
  return value;
}

/** An optional count: empty means `undefined`. */
export function parseOptionalCount(field: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return text.trim() === '' ? undefined : parseCount(field, text, min, max);
}

/** Bytes as hex pairs ("de ad be ef" or "deadbeef"), 1 to 4096 of them. */
export function parseBytes(field: string, text: string): Uint8Array {
  const t = text.replace(/\s+/g, '').toLowerCase().replace(/^0x/, '');
  if (t.length === 0 || t.length % 2 !== 0 || !/^[0-9a-f]+$/.test(t)) throw new FieldError(field, `expected bytes as hex pairs, got '${text}'`);
  if (t.length / 2 > 4096) throw new FieldError(field, 'at most 4096 bytes at once');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** One of a fixed list of names. */
export function parseChoice<T extends string>(field: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw new FieldError(field, `expected one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}

/** A file path: starts with '/', no spaces, at most 64 characters. */
export function parsePath(field: string, text: string): string {
  if (!/^\/[\w./-]{1,63}$/.test(text)) throw new FieldError(field, `expected a path like /data (letters, digits, . _ - /), got '${text}'`);
  return text;
}
