/**
 * Compact number formatting shared by the text table, the Markdown report and the chart
 * labels: three significant digits, a unit or an SI suffix, no locale (the output must not
 * depend on the machine that renders it).
 */

/** Three significant digits without trailing zeros: 45.6, 1.23, 512, 0.125. */
export function formatSignificant(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  // toPrecision(3) would write 1000 and up in exponent notation; the callers scale those first.
  const text = Math.abs(value) >= 1000 ? Math.round(value).toString() : value.toPrecision(3);
  if (text.includes('e')) return String(Number(text)); // 999.96 -> "1.00e+3" -> "1000"
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * A measured float cut to `digits` significant digits for files people read (the CSV):
 * 1668.1999999941327 -> 1668.2. Integers, and the digits left of the point, stay whole.
 */
export function roundSignificantDigits(value: number, digits = 6): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  if (Math.abs(value) >= 10 ** digits) return Math.round(value);
  return Number(value.toPrecision(digits));
}

const TIME_UNITS: readonly [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'us'],
];

/** A duration given in ns, in the largest unit that keeps it >= 1: "45.6 ns", "1.23 us", "3.4 ms". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  for (const [scale, unit] of TIME_UNITS) {
    // Compare the rounded value so 999.96 ns prints as "1 us", not "1000 ns".
    if (Math.abs(ns) >= scale || Number(Math.abs(ns).toPrecision(3)) >= scale) {
      return `${formatSignificant(ns / scale)} ${unit}`;
    }
  }
  return `${formatSignificant(ns)} ns`;
}

const COUNT_SUFFIXES: readonly [number, string][] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** A count or ratio, with k/M/G past a thousand: "0.5", "12", "45.6k", "1.23M". */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '-';
  for (const [scale, suffix] of COUNT_SUFFIXES) {
    if (Math.abs(value) >= scale || Number(Math.abs(value).toPrecision(3)) >= scale) {
      return `${formatSignificant(value / scale)}${suffix}`;
    }
  }
  return formatSignificant(value);
}

/** Wall-clock milliseconds for a person: "850 ms", "12.3 s", "4 min 05 s". */
export function formatWallMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${formatSignificant(ms)} ms`;
  if (ms < 60_000) return `${formatSignificant(ms / 1000)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  return `${minutes} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
}

/** How the two mapping sizes are named for people. */
export const PAGE_SIZE_LABEL: Readonly<Record<'pte' | 'pmd', string>> = {
  pte: 'PTE 4 KiB',
  pmd: 'PMD 2 MiB',
};
