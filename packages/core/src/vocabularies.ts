/**
 * `@kapkit/core/vocabularies`: the values an episode's events may take and the configurable defaults kapkit
 * checks them against, each with its source: the fields' vocabularies (routes, formulations, adverse-event
 * codes, reasons, roles), the episode policy and monitoring plan, the permission table (which role may
 * record which event) and the medication tables (interaction classes, diazepam equivalents). Without XState,
 * so forms and servers can share them.
 *
 * The names are listed one by one; everything else in `src/` is internal and may change in any release.
 * @packageDocumentation
 */

// Medication tables.
export {
  type DoseUnit,
  diazepamEquivalentMg,
  diazepamEquivalentPerDay,
  diazepamEquivalentSource,
  doseUnits,
  interactionClasses,
  type MedicationClass,
  type MedicationFinding,
  type MedicationInput,
  medicationClasses,
  medicationFindings,
  totalDiazepamEquivalent,
} from './episode/medications.js';
// Who may record what.
export {
  defaultPermissions,
  mayRecord,
  type PermissionTable,
  permissionSources,
  primaryRoleOf,
} from './episode/permissions.js';
// Policy and monitoring defaults.
export {
  defaultMonitoringPlan,
  defaultPolicy,
  type EpisodePolicy,
  INITIAL_SUPPLY_SESSIONS,
  policySources,
} from './episode/policy.js';
// The vocabularies the events' fields take their values from (every export of that module is public).
export * from './episode/vocabularies.js';
