// Generates docs/episode.md from the KAP episode model in @kapkit/core (the machine definition, the event
// schemas and their upcaster, the permission table, the policy, the refusal and alert codes, the critical-period
// analysis and statusAt), so that the documentation cannot drift from the code.
//
//   node scripts/gen-episode-docs.mjs           write docs/episode.md
//   node scripts/gen-episode-docs.mjs --check   exit 1 if docs/episode.md is not what would be written
//
// Reads the built package (packages/core/dist): run `npm run build` first. A few things TypeScript erases (the
// doc comments of EpisodePolicy and EpisodeStatus, the EpisodePhase union) are read from packages/core/src,
// and so is the permission table's sources when the package does not export them. The prose about each phase,
// guard, root-level transition, refusal code and alert is written here, and generation fails if the code has
// one that this script does not describe (or describes one that is gone), or if the model no longer does what
// the prose says: the script replays small synthetic episodes (dosing sessions, the safety layer, consent,
// medications, titration and maintenance, clinical time and corrections, alerts) and fails on any difference.
// The tables of examples in the page are their results.
// The output is deterministic (no dates of the day, no machine details), so the check can run in CI.
//
// The generator's parts live in scripts/episode-docs/: env.mjs (arguments, the built package, formatting),
// source.mjs (what is read from the TypeScript source), prose.mjs (the prose about phases, guards, fields,
// alerts and refusals), machine.mjs (the diagram and transition table), story.mjs (the synthetic-episode
// builder), sessions.mjs, safety-cases.mjs, protocol-cases.mjs, time-cases.mjs and alerts.mjs (the replayed
// cases), sections-*.mjs (the reference sections) and render.mjs (the page).

import { check, eventSchemas, fail, outFile } from './episode-docs/env.mjs';
import { allNodes } from './episode-docs/machine.mjs';
import { render } from './episode-docs/render.mjs';
import { problems } from './episode-docs/story.mjs';
import { writeOrCheck } from './lib/generator.mjs';

const generated = render();

if (problems.length) {
  fail(
    `the model no longer does what docs/episode.md says:\n  ${problems.join('\n  ')}\nUpdate the prose (and the synthetic episodes) in scripts/episode-docs/.`,
  );
}

writeOrCheck({
  name: 'gen-episode-docs',
  outFile,
  generated,
  check,
  what: 'from the episode model',
  wrote: `${Object.keys(eventSchemas).length} event types, ${allNodes.length} states`,
});
