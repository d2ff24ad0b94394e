import { Readable } from 'node:stream';
import { ndjsonTextLines } from '@kapkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineText, ndjsonByteLines } from '../src/stages/lines.js';
import { episodeOfBytes, episodeOfLine, scanInput } from '../src/stages/read.js';

/** The log cut into chunks at the given offsets, as a stream may deliver it. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

async function byBytes(chunks: Buffer[]) {
  const out: { line: number; text: string; route: ReturnType<typeof episodeOfLine> }[] = [];
  for await (const l of ndjsonByteLines(chunks)) {
    const { text: _text, ...route } = episodeOfBytes(l);
    out.push({ line: l.line, text: lineText(l), route });
  }
  return out;
}

async function byText(chunks: Buffer[]) {
  const out: { line: number; text: string; route: ReturnType<typeof episodeOfLine> }[] = [];
  for await (const { line, text } of ndjsonTextLines(chunks))
    out.push({ line, text, route: episodeOfLine(text) });
  return out;
}

/** Pieces that NDJSON logs (and broken ones) are made of, in bytes. */
const pieces = [
  '{"episodeId":"ep-1","type":"EpisodeOpened"}',
  '{"episodeId" : "ep-2","x":1}',
  '{"episodeId":"ép-3"}',
  '{"episodeId":"a\\"b"}',
  '{"episodeId":""}',
  '{"episodeId":7}',
  '{"episodeId":"x","episodeId":"y"}',
  '{"nested":{"episodeId":"ep-4"}}',
  '{"episodeId"\u00a0:"ep-5"}',
  '"episodeId":"ep-6"',
  'not json',
  '   ',
  '\t',
  '\u00a0',
  '\u2028',
  '{"type":"EventVoided","voidedEventId":"e1","episodeId":"ep-1"}',
  '{"type":"EventVoided","voidedEventId":"e2"}',
  '{"note":"EventVoided","episodeId":"ep-2"}',
  '\r',
  '\n',
  '\r\n',
  '\ufeff',
  'é€',
];
const piece = fc.oneof(
  fc.constantFrom(...pieces.map((p) => Buffer.from(p, 'utf8'))),
  fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a)),
);

describe('reading a log as bytes', () => {
  it('gives the lines, numbers, text and episode routes of the text reader, however the input is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(piece, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (bom, parts, cuts) => {
          const bytes = Buffer.concat([...(bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : []), ...parts]);
          const chunks = chunked(bytes, cuts);
          expect(await byBytes(chunks)).toEqual(await byText(chunks));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds the same last line of each episode and the same voided ids as reading the text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (parts, cuts) => {
          const chunks = chunked(Buffer.concat(parts), cuts);
          const lastLine = new Map<string, number>();
          const voidTargets = new Set<string>();
          for await (const { line, text } of ndjsonTextLines(chunks)) {
            const route = episodeOfLine(text);
            if (route.episodeId !== null) lastLine.set(route.episodeId, line);
            if (!text.includes('EventVoided')) continue;
            try {
              const v = JSON.parse(text);
              if (v?.type === 'EventVoided' && typeof v.voidedEventId === 'string')
                voidTargets.add(v.voidedEventId);
            } catch {}
          }
          expect(await scanInput(Readable.from(chunks))).toEqual({ lastLine, voidTargets });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drops a byte-order mark split across chunks, and a second one on the first line', async () => {
    const bytes = Buffer.from('\ufeff\ufeff{"episodeId":"ep-1"}\r\n\r\n  \n{"episodeId":"ep-2"}', 'utf8');
    for (let cut = 1; cut <= 7; cut++) {
      const chunks = [bytes.subarray(0, 1), bytes.subarray(1, cut), bytes.subarray(cut)];
      expect(await byBytes(chunks)).toEqual(await byText(chunks));
      const lines = (await byBytes(chunks)).map((l) => [l.line, l.text, l.route.episodeId]);
      expect(lines).toEqual([
        [1, '{"episodeId":"ep-1"}', 'ep-1'],
        [4, '{"episodeId":"ep-2"}', 'ep-2'],
      ]);
    }
  });
});
