import type { InputProblem } from './fold.js';

/**
 * Most problems held back for ordering. A log with more problems than this while an early episode is still
 * under way gets them reported in batches, each in line order. kapkit default.
 */
const MAX_HELD = 10_000;

/**
 * Excluded lines, reported in line order. The fold decides an episode's lines only once its last line has
 * been read, so its problems are found after those of lines read since; they are held until no episode under
 * way can still hold an earlier line (`release`), so that the reader sees them in the order of the input.
 */
export class ProblemQueue {
  /** The first problems reported (line and code), for the manifest. */
  readonly listed: { line: number; code: string }[] = [];
  /** Problems by code, the codes in the order they were first reported. */
  readonly byCode: Record<string, number> = {};
  #held: InputProblem[] = [];
  #lowest = Number.POSITIVE_INFINITY;

  constructor(
    private readonly maxListed: number,
    private readonly report: (p: InputProblem) => void,
  ) {}

  /** A problem found (reported by a later `release`). */
  add(p: InputProblem): void {
    this.#held.push(p);
    if (p.line < this.#lowest) this.#lowest = p.line;
  }

  /** Report, in line order, the held problems of lines before `line` (the first line still undecided). */
  release(line: number): void {
    if (this.#lowest >= line && this.#held.length <= MAX_HELD) return;
    const held = this.#held.sort((a, b) => a.line - b.line);
    const cut = this.#held.length > MAX_HELD ? held.length : held.findIndex((p) => p.line >= line);
    const ready = cut === -1 ? held : held.slice(0, cut);
    this.#held = cut === -1 ? [] : held.slice(cut);
    this.#lowest = this.#held[0]?.line ?? Number.POSITIVE_INFINITY;
    for (const p of ready) {
      if (this.listed.length < this.maxListed) this.listed.push({ line: p.line, code: p.code });
      this.byCode[p.code] = (this.byCode[p.code] ?? 0) + 1;
      this.report(p);
    }
  }
}
