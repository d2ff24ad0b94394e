import { replay } from '@kapkit/core';
import { describe, expect, it } from 'vitest';
import { buildLongEpisode } from '../src/server/demo.js';

/*
 * The synthetic long episode of the demo caseload, the tests and the benchmark: valid for the episode model at
 * every size it accepts, refused with a clear error beyond.
 */

const ids = {
  patientId: 'pt-synthetic-long',
  episodeId: 'ep-synthetic-long',
  startMs: Date.parse('2026-01-05T14:00:00Z'),
};

describe('buildLongEpisode', () => {
  it.each([
    [6, 0],
    [8, 3],
    [12, 23],
    [20, 40],
    [156, 41],
    [156, 59],
  ])('gives a log the episode model accepts whole (%i weeks, %i doses)', (weeks, doses) => {
    const events = buildLongEpisode({ ...ids, weeks, doses });
    const r = replay(events);
    expect(r.refusals.map((f) => `${f.index}: ${f.code}`)).toEqual([]);
    expect(r.accepted).toBe(events.length);
    expect(events.filter((e) => e.type === 'DoseAdministered')).toHaveLength(doses);
  });

  it('refuses sessions closer than three days apart, or a count that is not a whole number, naming the limit', () => {
    expect(() => buildLongEpisode({ ...ids, weeks: 12, doses: 24 })).toThrow(
      /doses must be a whole number from 0 to 23 for 12 weeks .*got 24/,
    );
    expect(() => buildLongEpisode({ ...ids, weeks: 156, doses: 60 })).toThrow(/from 0 to 59 for 156 weeks/);
    expect(() => buildLongEpisode({ ...ids, weeks: 12, doses: 2.5 })).toThrow(RangeError);
    expect(() => buildLongEpisode({ ...ids, weeks: 12, doses: -1 })).toThrow(RangeError);
  });
});
