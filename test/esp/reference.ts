/**
 * An independent ESP sealer for cross-checks, built on @noble/ciphers and @noble/hashes and on
 * the layouts of RFC 4303 / RFC 4106 as written, not on src/esp. Tests compare src/esp against
 * it byte for byte.
 * @module
 */

import { cbc, gcm } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../../src/bytes.js';

/** Per-suite facts from RFC 7402 §5.1.2 / HIP-DIGEST 6.2, written out independently of src/esp. */
export const REF_SUITES = {
  1: { mode: 'cbc', aesKey: 16, auth: 20, icv: 12, hash: 'sha1', align: 16 },
  7: { mode: 'null', aesKey: 0, auth: 32, icv: 16, hash: 'sha256', align: 4 },
  8: { mode: 'cbc', aesKey: 16, auth: 32, icv: 16, hash: 'sha256', align: 16 },
  9: { mode: 'cbc', aesKey: 32, auth: 32, icv: 16, hash: 'sha256', align: 16 },
  12: { mode: 'gcm', aesKey: 16, auth: 0, icv: 8, hash: '', align: 4 },
  13: { mode: 'gcm', aesKey: 16, auth: 0, icv: 16, hash: '', align: 4 },
} as const;

/** The suite IDs under test. */
export type RefSuite = keyof typeof REF_SUITES;
/** All suite IDs under test. */
export const ALL_SUITES: readonly RefSuite[] = [1, 7, 8, 9, 12, 13];

/** Big-endian 32-bit. */
export function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

/** Deterministic key bytes: start, start+1, ... (mod 256). */
export function pattern(n: number, start: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i * 7) & 255);
}

/** Keys for a suite: encryption slot (AES key + 4-byte salt for GCM) and auth slot. */
export function keysFor(suite: RefSuite, spi = 0x01020304, seed = 1) {
  const r = REF_SUITES[suite];
  const enc = r.mode === 'gcm' ? r.aesKey + 4 : r.aesKey;
  return { suite, spi, encKey: pattern(enc, seed), authKey: pattern(r.auth, seed + 100) };
}

/** payload | 1, 2, … | padLen | nextHeader, padded to the suite's alignment. */
export function refPlaintext(suite: RefSuite, payload: Uint8Array, nextHeader: number): Uint8Array {
  const align = REF_SUITES[suite].align;
  let pad = 0;
  while ((payload.length + pad + 2) % align !== 0) pad++;
  const trailer = new Uint8Array(pad + 2);
  for (let i = 0; i < pad; i++) trailer[i] = i + 1;
  trailer[pad] = pad;
  trailer[pad + 1] = nextHeader;
  return concatBytes(payload, trailer);
}

/** Seal an arbitrary (possibly badly padded) ESP plaintext. */
export function refSealPlain(o: {
  suite: RefSuite;
  spi: number;
  seq: bigint;
  encKey: Uint8Array;
  authKey: Uint8Array;
  iv?: Uint8Array;
  plaintext: Uint8Array;
  /** 'esn' (default): the ICV covers SeqHigh too (RFC 4303 §2.2.1); '32bit': only the 32 bits sent (hipd). */
  sequence?: 'esn' | '32bit';
}): Uint8Array {
  const r = REF_SUITES[o.suite];
  const esn = o.sequence !== '32bit';
  const spi = u32(o.spi);
  const hi = u32(Number(o.seq >> 32n));
  const lo = u32(Number(o.seq & 0xffffffffn));
  if (r.mode === 'gcm') {
    const key = o.encKey.slice(0, r.aesKey);
    const salt = o.encKey.slice(r.aesKey);
    const iv = concatBytes(hi, lo);
    const aad = esn ? concatBytes(spi, hi, lo) : concatBytes(spi, lo); // RFC 4106 §5
    const sealed = gcm(key, concatBytes(salt, iv), aad).encrypt(o.plaintext);
    const ct = sealed.slice(0, sealed.length - 16);
    // noble only makes 16-byte tags; a GCM tag of t bytes is the first t bytes of the full one.
    const tag = sealed.slice(sealed.length - 16, sealed.length - 16 + r.icv);
    return concatBytes(spi, lo, iv, ct, tag);
  }
  let body: Uint8Array;
  if (r.mode === 'cbc') {
    if (o.iv === undefined) throw new Error('CBC needs an IV');
    const ct = cbc(o.encKey, o.iv, { disablePadding: true }).encrypt(o.plaintext);
    body = concatBytes(spi, lo, o.iv, ct);
  } else {
    body = concatBytes(spi, lo, o.plaintext);
  }
  const mac = hmac(r.hash === 'sha1' ? sha1 : sha256, o.authKey, esn ? concatBytes(body, hi) : body);
  return concatBytes(body, mac.slice(0, r.icv));
}

/** Seal a payload the way RFC 4303 describes. */
export function refSeal(o: {
  suite: RefSuite;
  spi: number;
  seq: bigint;
  encKey: Uint8Array;
  authKey: Uint8Array;
  iv?: Uint8Array;
  payload: Uint8Array;
  nextHeader: number;
  sequence?: 'esn' | '32bit';
}): Uint8Array {
  return refSealPlain({ ...o, plaintext: refPlaintext(o.suite, o.payload, o.nextHeader) });
}
