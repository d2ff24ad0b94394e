import { createHmac } from 'node:crypto';

/** Hex characters kept of each HMAC-SHA-256 pseudonym: 32 hex = 128 bits. */
export const PSEUDONYM_HEX_LENGTH = 32;

/** Shortest key accepted for `--deidentify` (characters of the environment variable). */
export const MIN_KEY_LENGTH = 32;

/** What each kind of identifier is prefixed with before it is keyed, so equal raw ids of two kinds differ. */
export const PSEUDONYM_PREFIXES = {
  patient: 'patient:',
  episode: 'episode:',
  session: 'session:',
  event: 'event:',
  actor: 'actor:',
} as const;

export type IdKind = keyof typeof PSEUDONYM_PREFIXES;

/** A key that is too short to keep pseudonyms from being reversed by guessing identifiers. */
export class PseudonymKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PseudonymKeyError';
  }
}

/** Maps identifiers to exported ids: keyed pseudonyms when de-identifying, the identifiers themselves otherwise. */
export interface IdMapper {
  readonly deidentified: boolean;
  id(kind: IdKind, raw: string): string;
}

/** Identifiers exported as they are (exports that are not de-identified). */
export const identityIds: IdMapper = { deidentified: false, id: (_kind, raw) => raw };

/**
 * Keyed pseudonyms: `HMAC-SHA-256(key, prefix + id)` as lowercase hex, first 32 characters (128 bits). The
 * same key gives the same pseudonym in every export, so exports made at different times can be linked by
 * whoever holds them; without the key, ids cannot be recomputed from guesses (clinic ids such as record
 * numbers are easy to enumerate, which is why a plain hash would not do). The key itself is never stored.
 *
 * @throws {PseudonymKeyError} when the key is shorter than {@link MIN_KEY_LENGTH} characters.
 */
export function createPseudonymizer(key: string): IdMapper {
  if (typeof key !== 'string' || key.length < MIN_KEY_LENGTH) {
    throw new PseudonymKeyError(
      `the de-identification key must have at least ${MIN_KEY_LENGTH} characters (e.g. the output of "openssl rand -hex 32")`,
    );
  }
  const keyBytes = Buffer.from(key, 'utf8');
  return {
    deidentified: true,
    id(kind, raw) {
      return createHmac('sha256', keyBytes)
        .update(PSEUDONYM_PREFIXES[kind] + raw, 'utf8')
        .digest('hex')
        .slice(0, PSEUDONYM_HEX_LENGTH);
    },
  };
}
