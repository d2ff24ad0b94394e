/**
 * A small seeded pseudo-random number generator for synthetic demo data. Only integer and IEEE-754 basic
 * arithmetic is used (no Math.random, no transcendental functions such as Math.exp or Math.log, whose last
 * bits may differ between engines), so the same seed gives the same numbers on every platform.
 */

/**
 * cyrb128 (bryc, public domain): hashes a string into four 32-bit words, used to seed sfc32. Different
 * strings give unrelated streams, so `seed:patient-index` seeds each patient independently.
 */
function hashSeed(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A seeded generator (sfc32 by Chris Doty-Humphrey, public domain) with the helpers the demo data needs. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    [this.#a, this.#b, this.#c, this.#d] = hashSeed(seed);
    // Discard the first outputs: sfc32 mixes its state in a few rounds.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** The next 32-bit unsigned integer. */
  uint32(): number {
    this.#a |= 0;
    this.#b |= 0;
    this.#c |= 0;
    this.#d |= 0;
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One value of `[value, weight]` pairs, with probability proportional to its weight. */
  weighted<T>(options: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of options) total += w;
    let x = this.next() * total;
    for (const [value, w] of options) {
      x -= w;
      if (x < 0) return value;
    }
    return options[options.length - 1]![0];
  }

  /**
   * An approximately normal value (Irwin–Hall sum of 4 uniforms, rescaled to mean 0 and SD 1, so within
   * ±3.46 SD): arithmetic only, hence bit-identical everywhere.
   */
  normal(mean = 0, sd = 1): number {
    const sum = this.next() + this.next() + this.next() + this.next();
    return mean + sd * (sum - 2) * Math.sqrt(3);
  }
}
