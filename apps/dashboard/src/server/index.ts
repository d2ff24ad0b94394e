/**
 * The kapkit therapist dashboard server: a Hono app over @kapkit/store serving the JSON API and the built
 * front end.
 * @packageDocumentation
 */

export { announceDashboard } from './announce.js';
export {
  createDashboardApp,
  type DashboardApp,
  type DashboardOptions,
  DEFAULT_BODY_LIMIT,
  localOffset,
} from './app.js';
export { buildLongEpisode, type LongEpisodeOptions, seedDemoCaseload, storeIsEmpty } from './demo.js';
export { type RunningDashboard, type StartOptions, startDashboard } from './start.js';
export { loadStaticFiles, type StaticFiles } from './static.js';
