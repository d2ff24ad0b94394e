/*
 * The public names of episode events (schemas, types, parsing and upcasting), listed once for the two entries
 * that publish them: `@kapkit/core` (index.ts) and `@kapkit/core/read` (read.ts) re-export this module whole.
 */

export {
  type EpisodeEvent,
  type EpisodeEventInput,
  EVENT_SCHEMA_VERSION,
  type EventOf,
  type EventType,
  episodeEventSchema,
  eventSchemas,
  eventTypes,
  parseEvent,
  type Role,
  upcastEvent,
} from './episode/events.js';
