import { expect } from 'vitest';

/**
 * Asserts that each count is above its floor, naming the count that is not. The guard of a test over generated
 * data: the generator still produces each case the test relies on, often enough to mean something.
 */
export function expectCountsAbove<K extends string>(
  counts: Readonly<Record<K, number>>,
  floors: Readonly<Partial<Record<K, number>>>,
): void {
  for (const [name, floor] of Object.entries(floors) as [K, number][]) {
    expect(counts[name], name).toBeGreaterThan(floor);
  }
}
