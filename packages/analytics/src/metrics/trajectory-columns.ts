import { meanInterval } from './stats.js';
import type { TrajectoryBin } from './trajectory.js';

/**
 * The trajectory of `trajectory()` over columns: row `i` is (patient[i], t[i], score[i]) with dense patient
 * indices below `patientCount`. Within a bin, patients' means are taken in order of their first row in it.
 */
export function trajectoryOfColumns(
  patient: Int32Array,
  t: Float64Array,
  score: Float64Array,
  patientCount: number,
  edges: readonly number[],
): TrajectoryBin[] {
  const sorted = [...edges].sort((a, b) => a - b);
  const bins = sorted.length;
  // Per bin: a patient's cell (in order of first appearance in the bin), its sum and count.
  // (A map instead of a dense table when bins × patients is large.)
  const dense = bins * patientCount <= 1 << 24;
  const cellOf = new Int32Array(dense ? bins * patientCount : 0).fill(-1);
  const cellMap = dense ? null : new Map<number, number>();
  const cellBin: number[] = [];
  const sums: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < patient.length; i++) {
    const ti = t[i]!;
    if (ti < sorted[0]!) continue;
    let k = bins - 1;
    while (k > 0 && ti < sorted[k]!) k--;
    const slot = k * patientCount + patient[i]!;
    const c = dense ? cellOf[slot]! : (cellMap!.get(slot) ?? -1);
    if (c >= 0) {
      sums[c]! += score[i]!;
      counts[c]!++;
    } else {
      if (dense) cellOf[slot] = sums.length;
      else cellMap!.set(slot, sums.length);
      cellBin.push(k);
      sums.push(score[i]!);
      counts.push(1);
    }
  }
  const perBin: number[][] = sorted.map(() => []);
  for (let c = 0; c < sums.length; c++) perBin[cellBin[c]!]!.push(sums[c]! / counts[c]!);
  return sorted.map((edge, k) => ({
    bin: edge,
    upperEdge: sorted[k + 1] ?? null,
    ...meanInterval(perBin[k]!),
  }));
}
