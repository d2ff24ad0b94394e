/**
 * @kapkit/store: the durable event store of KAP episodes. Embedded PGlite (a folder on disk) by default,
 * PostgreSQL at scale, the same SQL on both.
 * @packageDocumentation
 */

export * from './account-types.js';
export { AccountStore, openAccounts } from './accounts.js';
export {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupHeader,
  type BackupSummary,
  backupStore,
  inspectBackup,
  restoreStore,
} from './backup.js';
export {
  type CheckStoreOptions,
  checkStore,
  type StoreCheckArea,
  type StoreCheckProblem,
  type StoreCheckReport,
} from './check.js';
export * from './errors.js';
export { LOCK_FILE } from './lock.js';
export * from './measure-request-types.js';
export { hashMeasureToken, MeasureRequestStore, openMeasureRequests } from './measure-requests.js';
export {
  DEFAULT_DATA_DIR,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MIN_FREE_DISK_BYTES,
  DEFAULT_TIMEOUTS,
  type OpenStoreOptions,
  openStore,
} from './open.js';
export {
  hashPassword,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  SCRYPT_DEFAULTS,
  verifyPassword,
} from './passwords.js';
export { SCHEMA_VERSION } from './schema.js';
export type * from './store-types.js';
