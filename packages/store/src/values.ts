import { createHash, randomBytes } from 'node:crypto';

/** Small conversions shared by the accounts, the audit trail and the measure requests. */

/** A database time (Date or text) as ISO 8601 UTC; null stays null. */
export const iso = (v: Date | string | null): string | null =>
  v === null ? null : new Date(v).toISOString();

/** Epoch ms as ISO 8601 UTC. */
export const at = (ms: number) => new Date(ms).toISOString();

/** SHA-256 (hex) of a token: only this is stored, never the token. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new 256-bit random token, base64url. */
export const newToken = () => randomBytes(32).toString('base64url');
