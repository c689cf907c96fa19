/**
 * Grouping for the report writers (Node 20 has no Map.groupBy): groups keep the order in
 * which their first member appears, so tables and charts follow the matrix's order.
 */

/** The items by key, each group in input order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
