/**
 * A log-scale axis of emulated time with a tick at each power of ten, labelled in the unit
 * a reader would use (100 ns, 1 us, 10 ms) rather than vega's SI count format ("1M" for a
 * millisecond). The domain is widened to whole decades so the ticks span it.
 */
import { formatNs } from './format.js';

export interface TimeAxis {
  domain: [number, number];
  values: number[];
  /** A vega expression that maps each tick value to its label. */
  labelExpr: string;
}

/** The axis for these positive ns values. */
export function logTimeAxis(ns: readonly number[]): TimeAxis {
  const low = Math.floor(Math.log10(Math.min(...ns)));
  let high = Math.ceil(Math.log10(Math.max(...ns)));
  if (high === low) high++;
  // Number('1e' + k) is exact where 10 ** k may not be, so the label lookup matches the tick.
  const values = Array.from({ length: high - low + 1 }, (_, i) => Number(`1e${low + i}`));
  const labelExpr = values.reduceRight((rest, value) => `datum.value === ${value} ? ${JSON.stringify(formatNs(value))} : ${rest}`, "''");
  return { domain: [values[0]!, values[values.length - 1]!], values, labelExpr };
}
