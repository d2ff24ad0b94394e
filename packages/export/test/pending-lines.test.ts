import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/** The bytes of this process's open, already deleted spill files, read through /proc (Linux only). */
function openSpillFiles(): Buffer[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return [];
    }
    return target.includes('kapkit-export-held-') ? [readFileSync(`/proc/self/fd/${fd}`)] : [];
  });
}

describe.skipIf(process.platform !== 'linux')('the spill file', () => {
  it('holds the lines encrypted, and gives them back in clear from any position', () => {
    const before = openSpillFiles().length;
    const spill = new SpillFile();
    try {
      const lines = Array.from(
        { length: 50 },
        (_, i) => `{"patientId":"pt-synthetic-${i}","note":"${'identified text é€ '.repeat(i % 9)}"}`,
      );
      const at = lines.map((l) => spill.append(Buffer.from(l, 'utf8')));
      const files = openSpillFiles();
      expect(files).toHaveLength(before + 1);
      const onDisk = files[files.length - 1]!;
      // Written: as many bytes as the lines, none of them in clear.
      expect(onDisk.length).toBe(spill.bytes);
      expect(onDisk.length).toBe(Buffer.byteLength(lines.join(''), 'utf8'));
      expect(onDisk.includes('pt-synthetic')).toBe(false);
      expect(onDisk.includes('patientId')).toBe(false);
      // Read back at unaligned positions, in any order.
      for (const i of [49, 0, 17, 3, 48, 17]) {
        const bytes = Buffer.byteLength(lines[i]!, 'utf8');
        expect(spill.read(at[i]!, bytes).toString('utf8', 0, bytes)).toBe(lines[i]);
      }
    } finally {
      spill.close();
    }
  });
});
