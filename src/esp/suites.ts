/**
 * ESP transform suites HIP can negotiate in ESP_TRANSFORM (RFC 7402 §5.1.2), with the key and
 * ICV sizes each one needs.
 *
 * Only the suites this library can run are listed: 1, 7, 8, 9, 12 and 13. The CCM, CMAC and
 * GMAC suites (10, 11, 14, 15) and the deprecated ones (2–6) are refused with
 * `ERR_ESP_UNSUPPORTED_SUITE`.
 *
 * RFC 7402 leaves the AES key size of the GCM suites open; like hip-vpls we use AES-128, and per
 * RFC 4106 §8.1 the encryption KEYMAT slot of a GCM suite is the key followed by a 4-byte salt.
 * @module
 */

import { HipEspError } from '../errors.js';

/** What an ESP transform suite needs: cipher, key sizes, ICV size. */
export interface EspSuiteInfo {
  /** Suite ID as carried in ESP_TRANSFORM. */
  id: number;
  /** Human-readable name. */
  name: string;
  /** Encryption algorithm; `'null'` means the payload travels in clear (suite 7). */
  cipher: 'aes-cbc' | 'aes-gcm' | 'null';
  /** AES key length in bytes, without any salt (0 for NULL encryption). */
  encKeyLength: number;
  /** Salt bytes that follow the AES key in the encryption KEYMAT slot: 4 for GCM, else 0. */
  saltLength: number;
  /** HMAC key length in bytes (0 for GCM, whose tag is the integrity check). */
  authKeyLength: number;
  /** Bytes of Integrity Check Value at the end of every packet. */
  icvLength: number;
  /** HMAC hash for the CBC and NULL suites. */
  hmac?: 'sha1' | 'sha256';
  /** True for suite 7: integrity only, no confidentiality; local policy must opt in. */
  insecure?: boolean;
}

const SUITES: readonly EspSuiteInfo[] = [
  { id: 1, name: 'AES-128-CBC with HMAC-SHA1-96', cipher: 'aes-cbc', encKeyLength: 16, saltLength: 0, authKeyLength: 20, icvLength: 12, hmac: 'sha1' },
  { id: 7, name: 'NULL with HMAC-SHA-256-128', cipher: 'null', encKeyLength: 0, saltLength: 0, authKeyLength: 32, icvLength: 16, hmac: 'sha256', insecure: true },
  { id: 8, name: 'AES-128-CBC with HMAC-SHA-256-128', cipher: 'aes-cbc', encKeyLength: 16, saltLength: 0, authKeyLength: 32, icvLength: 16, hmac: 'sha256' },
  { id: 9, name: 'AES-256-CBC with HMAC-SHA-256-128', cipher: 'aes-cbc', encKeyLength: 32, saltLength: 0, authKeyLength: 32, icvLength: 16, hmac: 'sha256' },
  { id: 12, name: 'AES-128-GCM with 8-octet ICV', cipher: 'aes-gcm', encKeyLength: 16, saltLength: 4, authKeyLength: 0, icvLength: 8 },
  { id: 13, name: 'AES-128-GCM with 16-octet ICV', cipher: 'aes-gcm', encKeyLength: 16, saltLength: 4, authKeyLength: 0, icvLength: 16 },
];

/**
 * Every ESP suite this library implements, by suite ID.
 *
 * @example
 * ```ts
 * const offer = [...ESP_SUITES.values()].filter((s) => !s.insecure).map((s) => s.id);
 * ```
 */
export const ESP_SUITES: ReadonlyMap<number, EspSuiteInfo> = new Map(
  SUITES.map((s) => [s.id, Object.freeze(s)] as const),
);

/**
 * The description of one suite.
 *
 * @throws HipEspError `ERR_ESP_UNSUPPORTED_SUITE` for an unknown, deprecated or unimplemented ID.
 * @example
 * ```ts
 * espSuite(8).icvLength // 16
 * ```
 */
export function espSuite(id: number): EspSuiteInfo {
  const s = ESP_SUITES.get(id);
  if (s === undefined) {
    throw new HipEspError('ERR_ESP_UNSUPPORTED_SUITE', `ESP suite ${String(id)} is not supported`, { suite: id });
  }
  return s;
}

/**
 * How many KEYMAT bytes one direction of an SA takes, in draw order: first the encryption key
 * (with the GCM salt at its end), then the integrity key.
 *
 * @throws HipEspError `ERR_ESP_UNSUPPORTED_SUITE` for an unknown suite.
 * @example
 * ```ts
 * espKeymatLengths(12) // { enc: 20, auth: 0 }
 * espKeymatLengths(8)  // { enc: 16, auth: 32 }
 * ```
 */
export function espKeymatLengths(id: number): {
  /** Encryption key bytes, salt included (0 for NULL encryption). */
  enc: number;
  /** Integrity key bytes (0 for combined-mode suites such as GCM). */
  auth: number;
} {
  const s = espSuite(id);
  return { enc: s.encKeyLength + s.saltLength, auth: s.authKeyLength };
}

/**
 * Length of the ESP packet that carries a payload of `payloadLength` bytes under a suite:
 * header, IV, padded payload with its 2 trailer bytes, and ICV. Useful for path-MTU sums.
 *
 * @throws HipEspError `ERR_ESP_UNSUPPORTED_SUITE` for an unknown suite.
 * @example
 * ```ts
 * espPacketLength(8, 1400) // 8 + 16 + 1408 + 16 = 1448
 * ```
 */
export function espPacketLength(id: number, payloadLength: number): number {
  const s = espSuite(id);
  const block = s.cipher === 'aes-cbc' ? 16 : 4;
  const iv = s.cipher === 'aes-cbc' ? 16 : s.cipher === 'aes-gcm' ? 8 : 0;
  const padded = Math.ceil((payloadLength + 2) / block) * block;
  return 8 + iv + padded + s.icvLength;
}
