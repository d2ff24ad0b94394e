/** Numbering rows' groups (patients) and ordering rows by group, for the columnar paths. */

/** The index of `key` in order of first appearance: its number in `index`, or the next number when new. */
export function appearanceIndex<K>(index: Map<K, number>, key: K): number {
  let i = index.get(key);
  if (i === undefined) {
    i = index.size;
    index.set(key, i);
  }
  return i;
}

/**
 * Row indices grouped by patient by a counting sort, stable (input order kept within a patient): patient p's
 * rows are order[start[p]] … order[start[p + 1] − 1].
 */
export function rowsByPatient(
  patient: Int32Array,
  count: number,
): { readonly start: Int32Array; readonly order: Int32Array } {
  const n = patient.length;
  const start = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) start[patient[i]! + 1]!++;
  for (let p = 0; p < count; p++) start[p + 1]! += start[p]!;
  const fill = start.slice(0, count);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[patient[i]!]!++] = i;
  return { start, order };
}
