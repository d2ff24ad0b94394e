import { defineInstrument } from './definition.js';
import { numberedItemsAllRequired, scoringOnlyLicence } from './definition-parts.js';

/**
 * CADSS-6: six-item short form of the Clinician-Administered Dissociative States Scale, for monitoring the
 * dissociative effects of sub-anaesthetic ketamine. Items 1, 2, 6, 7, 15 and 22 of the 23-item CADSS, each
 * rated 0–4; total = sum, 0–24. A session measure: rated during or shortly after a dosing session, not tracked
 * as an outcome. `direction` records that more dissociation is the unwanted direction for a side effect. The
 * licence is unknown, so kapkit ships scoring only: the user supplies the item text and answer labels.
 */
export const cadss6 = defineInstrument({
  id: 'cadss6',
  name: 'CADSS-6',
  title: 'Clinician-Administered Dissociative States Scale, 6-item short form',
  construct: 'Acute dissociative symptoms during or after a ketamine dosing session',
  purpose: 'session',
  direction: 'higher-is-worse',
  recall: 'the dosing session (rated during or shortly after it)',
  version: '1',
  licence: scoringOnlyLicence(
    'J. Douglas Bremner and colleagues (CADSS); short form by Rodrigues et al. 2021',
    'Unknown: no published licence or terms of use found. kapkit ships scoring only; the user supplies the item text.',
  ),
  ...numberedItemsAllRequired('cadss6', 6, { min: 0, max: 4 }, 'sum'),
  range: { min: 0, max: 24 },
  references: [
    'Rodrigues NB, McIntyre RS, Lipsitz O, et al. A simplified 6-item clinician administered dissociative symptom scale (CADSS-6) for monitoring dissociative effects of sub-anesthetic ketamine infusions. J Affect Disord 2021;282:160–164.',
    'Bremner JD, Krystal JH, Putnam FW, et al. Measurement of dissociative states with the Clinician-Administered Dissociative States Scale (CADSS). J Trauma Stress 1998;11:125–136.',
  ],
});
