/**
 * A small deterministic PRNG (mulberry32): the same seed gives the same numbers, so a test's random data or a
 * run's random kill points can be replayed from its seed, and every benchmark run measures the same data.
 * Shared by the tests (TypeScript, typed by prng.d.mts) and the benchmarks (scripts/bench-report.mjs).
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
