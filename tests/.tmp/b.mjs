import { writeFileSync } from 'node:fs';
import { outcomeChartConfig } from '@kapkit/charts';
import { renderChartPng } from '@kapkit/charts/render';
import { replay } from '@kapkit/core';

const { state } = replay([
  {
    id: 'e0',
    episodeId: 'ep-1',
    patientId: 'pt-1',
    type: 'EpisodeOpened',
    at: '2026-03-02T10:00:00-05:00',
    v: 1,
  },
  {
    id: 'e1',
    episodeId: 'ep-1',
    patientId: 'pt-1',
    type: 'AssessmentRecorded',
    at: '2026-03-02T10:30:00-05:00',
    v: 1,
    instrument: 'phq9',
    responses: [3, 2, 2, 3, 2, 2, 2, 1, 0],
  },
  {
    id: 'e2',
    episodeId: 'ep-1',
    patientId: 'pt-1',
    type: 'AssessmentRecorded',
    at: '2026-03-30T10:30:00-04:00',
    v: 1,
    instrument: 'phq9',
    responses: [1, 1, 0, 1, 1, 0, 0, 0, 0],
  },
]);
const png = await renderChartPng(outcomeChartConfig({ context: state.context }), {
  width: 1200,
  height: 720,
  devicePixelRatio: 2,
});
writeFileSync('outcome-chart.png', png);
console.log(png.length > 0); // true
