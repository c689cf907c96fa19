/**
 * Which lines of a chart would vanish under another: a series whose every point lies on
 * a later-drawn series of the same panel (within a ratio that a log axis cannot show
 * apart). The chart draws those as a wide pale band beneath and its legend says so.
 */
import { groupBy } from './group.js';

export interface SeriesPoint {
  /** The panel and line style the series is drawn in; only series of one panel can hide each other. */
  panel: string;
  series: string;
  x: number;
  y: number;
}

/** Two values closer than this ratio sit within about a pixel on the charts' log axes. */
export const SAME_RATIO = 1.05;

const close = (a: number, b: number): boolean => Math.max(a / b, b / a) <= SAME_RATIO;

/**
 * For each panel, the series hidden under another, mapped to the one on top. `order` is the
 * drawing order: later series are drawn over earlier ones.
 */
export function hiddenSeries(points: readonly SeriesPoint[], order: readonly string[]): Map<string, Map<string, string>> {
  const panels = new Map(
    [...groupBy(points, (p) => p.panel)].map(([panel, its]) => [
      panel,
      new Map([...groupBy(its, (p) => p.series)].map(([series, line]) => [series, new Map(line.map((p) => [p.x, p.y]))])),
    ]),
  );
  const result = new Map<string, Map<string, string>>();
  for (const [panel, series] of panels) {
    const hidden = new Map<string, string>();
    const drawn = order.filter((name) => series.has(name));
    // From the top down, so a series hides only under one that is itself visible.
    for (let i = drawn.length - 1; i >= 0; i--) {
      const lower = series.get(drawn[i]!)!;
      const cover = drawn.slice(i + 1).find((name) => {
        if (hidden.has(name)) return false;
        const upper = series.get(name)!;
        return [...lower].every(([x, y]) => upper.has(x) && close(y, upper.get(x)!));
      });
      if (cover !== undefined) hidden.set(drawn[i]!, cover);
    }
    if (hidden.size > 0) result.set(panel, hidden);
  }
  return result;
}
