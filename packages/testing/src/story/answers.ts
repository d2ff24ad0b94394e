/**
 * PHQ-9 answers summing to `total`, with item 9 = `item9`, the rest spread over items 1–8 one point at a time
 * (item 1 first).
 *
 * @example
 * ```ts
 * phq9Answers(10, 1); // [2, 1, 1, 1, 1, 1, 1, 1, 1]
 * ```
 * @throws {RangeError} when items 1–8 cannot hold `total - item9` (more than 24).
 */
export function phq9Answers(total: number, item9 = 0): number[] {
  if (total - item9 < 0 || total - item9 > 24) {
    throw new RangeError(`phq9Answers: cannot make ${total} with item 9 = ${item9} (items 1–8 hold 0 to 24)`);
  }
  const items = [0, 0, 0, 0, 0, 0, 0, 0, item9];
  spread(items, 8, total - item9);
  return items;
}

/**
 * GAD-7 answers summing to `total` (0–21), spread over the items one point at a time (item 1 first).
 *
 * @throws {RangeError} when `total` is not from 0 to 21.
 */
export function gad7Answers(total: number): number[] {
  if (total < 0 || total > 21) throw new RangeError(`gad7Answers: ${total} is not a GAD-7 total (0 to 21)`);
  const items = [0, 0, 0, 0, 0, 0, 0];
  spread(items, 7, total);
  return items;
}

/** Add `points` to the first `count` items, one point per item per round, none above 3. */
function spread(items: number[], count: number, points: number): void {
  let left = points;
  while (left > 0) {
    for (let i = 0; i < count && left > 0; i++) {
      if (items[i]! < 3) {
        items[i]!++;
        left--;
      }
    }
  }
}
