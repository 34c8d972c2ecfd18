import { createHash, randomBytes } from 'node:crypto';

/** Every generated key starts with this, so leaked keys are recognisable by secret scanners. */
export const API_KEY_PREFIX = 'mcrm_';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 40; // 40 × log2(62) ≈ 238 bits of entropy
const SHOWN_PREFIX_LENGTH = 12;

/** A new random key: `mcrm_` followed by 40 base62 characters. */
export function generateApiKey(): string {
  let out = API_KEY_PREFIX;
  while (out.length < API_KEY_PREFIX.length + RANDOM_CHARS) {
    for (const byte of randomBytes(RANDOM_CHARS)) {
      // Rejection sampling: 248 = 4 × 62, so `byte % 62` stays uniform for bytes below it.
      if (byte < 248 && out.length < API_KEY_PREFIX.length + RANDOM_CHARS) out += BASE62[byte % 62];
    }
  }
  return out;
}

/**
 * The stored form of a key: sha256 hex. A fast hash is right here (unlike for passwords): keys are
 * long random secrets, so there is nothing to brute-force, and a fast hash keeps the lookup that
 * runs on every request cheap and indexable.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The part of a key shown in lists. Generated keys show their first 12 characters (`mcrm_` + 7 of
 * 40 random ones). An operator-chosen ADMIN_API_KEY may be as short as 16 characters, so showing 12
 * of them would give most of the secret away: such keys show only 4.
 */
export function displayPrefix(key: string): string {
  const generated = key.startsWith(API_KEY_PREFIX) && key.length === API_KEY_PREFIX.length + RANDOM_CHARS;
  return key.slice(0, generated ? SHOWN_PREFIX_LENGTH : 4);
}
