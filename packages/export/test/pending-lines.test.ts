import { afterAll, describe, expect, it } from 'vitest';
import { PendingEpisode, SpillFile } from '../src/stages/pending.js';

describe('the lines of an episode under way', () => {
  const texts = Array.from(
    { length: 300 },
    (_, i) => `{"line":${i},"text":"${'é€x'.repeat((i * 37) % 700)}"}`,
  );
  const spill = new SpillFile();
  afterAll(() => spill.close());

  it.each([false, true])('come back exactly, in order, with their numbers (spilled: %s)', (spilled) => {
    const held = new PendingEpisode(5);
    for (const [i, t] of texts.entries()) held.add(5 + 2 * i, t, spilled ? spill : null);
    expect([...held.lines(spill)]).toEqual(texts.map((text, i) => ({ line: 5 + 2 * i, text })));
    expect(held.firstLine).toBe(5);
  });

  it('take less memory spilled, and say how much they take', () => {
    const plain = new PendingEpisode(1);
    const packed = new PendingEpisode(1);
    let grown = 0;
    texts.forEach((t, i) => {
      plain.add(i + 1, t, null);
      grown += packed.add(i + 1, t, spill);
    });
    expect(grown).toBe(packed.bytes);
    expect(plain.bytes).toBeGreaterThanOrEqual(Buffer.byteLength(texts.join(''), 'utf8'));
    expect(packed.bytes).toBeLessThan(plain.bytes / 3);
  });
});
