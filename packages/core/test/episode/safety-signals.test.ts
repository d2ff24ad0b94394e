import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { decide, replay } from '../../src/episode/decide.js';
import { refusalCodes } from '../../src/episode/rules.js';
import { cases, noSignalCodes } from './prop/refusal-cases.js';

// A safety signal survives every refusal: the cases are in ./prop/refusal-cases.ts.

describe('no safety signal is lost, whatever the refusal code', () => {
  it('covers every refusal code: a case with a signal, or listed as one no signal-carrying event can get', () => {
    const covered = Object.keys(cases);
    expect(
      Object.keys(refusalCodes)
        .filter((c) => !covered.includes(c))
        .sort(),
    ).toEqual([...noSignalCodes].sort());
    expect(covered.filter((c) => noSignalCodes.includes(c))).toEqual([]);
  });

  it.each(Object.entries(cases))('%s: the refusal carries the signal and says so', (code, make) => {
    const c = make();
    const before = replay(c.log);
    expect(before.refusals).toEqual([]);
    const d = decide(before.state, c.input);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.refusal.code).toBe(code);
    expect(d.refusal.safetyFlags?.map((f) => [f.rule, f.kind])).toContainEqual([c.rule, 'positive']);
    expect(d.refusal.message).toContain('SAFETY');
    expect(d.refusal.message).toContain(c.rule);
    if (code === 'out-of-order') expect(d.refusal.invalidates?.type).toBe('DoseAdministered');
    // Nothing of the refused event is applied.
    expect(d.state).toBe(before.state);
  });

  it('keeps the signals of severe, serious and suicidal-ideation adverse events refused by the envelope', () => {
    const s = new Story().readyToDose().dosingSession(14);
    const { state } = replay(s.events);
    const report = (payload: Record<string, unknown>) => {
      s.add('AdverseEventReported', payload, 300);
      return s.events.pop()!;
    };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ code: 'fall', severity: 'severe', recordedBy: 'system' }, 'not-permitted', 'adverse-event-severe'],
      [
        { code: 'other', severity: 'serious', episodeId: 'ep-other' },
        'wrong-episode',
        'adverse-event-serious',
      ],
      [
        { code: 'suicidal-ideation', severity: 'mild', id: (s.events[0] as { id: string }).id },
        'duplicate-event-id',
        'adverse-event-suicidal-ideation',
      ],
    ];
    for (const [payload, code, rule] of cases) {
      const d = decide(state, report(payload));
      expect(d.ok).toBe(false);
      if (d.ok) continue;
      expect(d.refusal.code).toBe(code);
      expect(d.refusal.safetyFlags?.map((f) => f.rule)).toEqual([rule]);
    }
    // A mild one carries none.
    const mild = decide(state, report({ code: 'nausea', severity: 'mild', recordedBy: 'system' }));
    expect(!mild.ok && mild.refusal.safetyFlags).toBeFalsy();
  });
});
