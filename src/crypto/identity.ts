/**
 * Host identities: a key pair plus the HITs and Host Identity fields derived from it, and the
 * peer-side counterpart that turns a received HOST_ID into a public key and HIT.
 * Node-only (key generation and key files use node:crypto and node:fs).
 * @module
 */

import { sign, verify } from 'node:crypto';
import { HipArgumentError, HipError, HipIdentityError } from '../errors.js';
import { computeHit, computeHitV1, formatHit } from './hit.js';
import { decodeHostIdentity, encodeHostIdentity, hitSuiteOf, type EncodedHostIdentity } from './host-id.js';
import { materialToKeyObject, materialToPublicKeyObject } from './key-convert.js';
import { generatePrivateKeyMaterial } from './keygen.js';
import {
  privateKeyToPem,
  publicKeyToPem,
  readPrivateKeyFile,
  readPrivateKeyFileSync,
  writePrivateKeyFile,
  writePrivateKeyFileSync,
  type WriteKeyFileOptions,
} from './keyfile.js';
import { publicKeyOf, type KeyAlgorithm, type PrivateKeyMaterial, type PublicKeyMaterial } from './keys.js';

/**
 * The key algorithms a host identity can use. `ed25519` is experimental: HIT suite 5 inside a
 * base exchange is underspecified (HIP-DIGEST 2.1), so use it only when you control both ends.
 */
export type IdentityAlgorithm = KeyAlgorithm;

/** Options for {@link HostIdentity.generate}. */
export interface GenerateIdentityOptions {
  /** Key algorithm; default `'ecdsa-p256'` (HIT suite 2). `'rsa'` is needed for HIPv1/libhipl. */
  algorithm?: IdentityAlgorithm;
  /** RSA modulus size in bits, 1024 to 8192; default 2048. libhipl (HIPv1) takes at most 4096. */
  rsaBits?: number;
}

const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 8192;

function algorithmOf(key: PublicKeyMaterial): IdentityAlgorithm {
  switch (key.kind) {
    case 'ecdsa':
      return key.curve === 'P-256' ? 'ecdsa-p256' : 'ecdsa-p384';
    case 'rsa':
      return 'rsa';
    case 'ed25519':
      return 'ed25519';
  }
}

function hasBytes(o: object, names: readonly string[]): boolean {
  const rec = o as Record<string, unknown>;
  return names.every((n) => rec[n] instanceof Uint8Array && (rec[n] as Uint8Array).length > 0);
}

/** Shape check before anything touches the fields, so bad input gets a typed error. */
function checkPrivateShape(m: unknown): asserts m is PrivateKeyMaterial {
  const o = m as { kind?: unknown; curve?: unknown } | null;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    ((o.kind === 'ecdsa' && (o.curve === 'P-256' || o.curve === 'P-384') && hasBytes(o, ['point', 'd'])) ||
      (o.kind === 'rsa' && hasBytes(o, ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'])) ||
      (o.kind === 'ed25519' && hasBytes(o, ['publicKey', 'seed'])));
  if (!ok) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY', 'not P-256/P-384, RSA or Ed25519 private key material');
  }
}

/**
 * An RSA identity below {@link RSA_MIN_BITS} bits is refused: a 512-bit modulus is factored in
 * hours, and whoever factors it holds the HIT.
 */
function checkRsaMinimum(m: PrivateKeyMaterial): void {
  if (m.kind !== 'rsa') return;
  let i = 0;
  while (i < m.n.length - 1 && m.n[i] === 0) i++;
  const bits = (m.n.length - i - 1) * 8 + (32 - Math.clz32(m.n[i]!));
  if (bits < RSA_MIN_BITS) {
    throw new HipIdentityError('ERR_IDENTITY_WEAK_KEY', `an RSA key of ${bits} bits is too small: at least ${RSA_MIN_BITS} bits`, { bits, minimum: RSA_MIN_BITS });
  }
}

/**
 * Prove the private half matches the public half by signing and verifying a probe. Cheap next
 * to a base exchange, and it stops a mismatched key from producing a HIT it cannot sign for.
 */
function checkKeyPair(m: PrivateKeyMaterial): void {
  try {
    const probe = Buffer.from('hipl host identity self-check');
    const priv = materialToKeyObject(m);
    const pub = materialToPublicKeyObject(publicKeyOf(m));
    const hash = m.kind === 'ed25519' ? null : 'sha256';
    const sig = sign(hash, probe, priv);
    if (verify(hash, probe, pub, sig)) return;
  } catch (e) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY', `the ${m.kind} key was refused: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e instanceof HipError ? e.code : undefined,
    });
  }
  throw new HipIdentityError('ERR_IDENTITY_BAD_KEY', `the ${m.kind} private key does not match its public key`);
}

/**
 * This host's identity: a private key, its public Host Identity and the HITs derived from it.
 * HITs and Host Identity fields are computed once and cached; getters return copies.
 *
 * @example
 * ```ts
 * const id = HostIdentity.generate();                 // ECDSA P-256, HIT suite 2
 * await id.save('/etc/hipl/host.pem');                // PKCS#8 PEM, mode 0600
 * const again = await HostIdentity.load('/etc/hipl/host.pem');
 * again.hitString();                                  // '2001:22:...'
 *
 * const v1 = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
 * v1.hitString(1);                                    // ORCHIDv1 HIT for libhipl, '2001:1x:...'
 * ```
 */
export class HostIdentity {
  /** The key algorithm. */
  readonly algorithm: IdentityAlgorithm;
  /** The private key. Keep it secret: it is what the HIT stands for. */
  readonly privateKey: PrivateKeyMaterial;
  /** The public key. */
  readonly publicKey: PublicKeyMaterial;
  /** The HIT suite of the ORCHIDv2 HIT: 1 RSA (SHA-256), 2 ECDSA (SHA-384), 5 Ed25519 (experimental). */
  readonly hitSuite: number;

  readonly #hostIds = new Map<1 | 2, EncodedHostIdentity>();
  readonly #hits = new Map<1 | 2, Uint8Array>();

  private constructor(privateKey: PrivateKeyMaterial) {
    this.privateKey = privateKey;
    this.publicKey = publicKeyOf(privateKey);
    this.algorithm = algorithmOf(this.publicKey);
    this.hitSuite = hitSuiteOf(this.publicKey);
    // Fails early, with a typed error, on key material HIP cannot carry.
    this.#hostIdentity(2);
  }

  /**
   * Generate a new identity.
   *
   * @throws HipArgumentError `ERR_HIP_INVALID_ARGUMENT` for an unknown algorithm or RSA size.
   */
  static generate(options: GenerateIdentityOptions = {}): HostIdentity {
    const algorithm = options.algorithm ?? 'ecdsa-p256';
    if (!['ecdsa-p256', 'ecdsa-p384', 'rsa', 'ed25519'].includes(algorithm)) {
      throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', `unknown identity algorithm ${String(algorithm)}`, {
        algorithm,
      });
    }
    const rsaBits = options.rsaBits ?? 2048;
    if (!Number.isInteger(rsaBits) || rsaBits < RSA_MIN_BITS || rsaBits > RSA_MAX_BITS || rsaBits % 8 !== 0) {
      throw new HipArgumentError(
        'ERR_HIP_INVALID_ARGUMENT',
        `rsaBits must be a multiple of 8 from ${RSA_MIN_BITS} to ${RSA_MAX_BITS}`,
        { rsaBits },
      );
    }
    return new HostIdentity(generatePrivateKeyMaterial(algorithm, rsaBits));
  }

  /**
   * An identity from existing private key material. The key pair is checked by a sign/verify
   * round.
   *
   * @throws HipIdentityError `ERR_IDENTITY_BAD_KEY` for malformed or mismatched material,
   *   `ERR_IDENTITY_UNSUPPORTED` / `ERR_IDENTITY_BAD_HOST_ID` for keys HIP cannot carry.
   */
  static fromPrivateKey(material: PrivateKeyMaterial): HostIdentity {
    checkPrivateShape(material);
    checkRsaMinimum(material);
    // Own copy: a caller reusing its buffers must not change a key whose HIT is cached.
    const own = Object.fromEntries(
      Object.entries(material).map(([k, v]) => [k, v instanceof Uint8Array ? v.slice() : v]),
    ) as unknown as PrivateKeyMaterial;
    checkKeyPair(own);
    return new HostIdentity(own);
  }

  /**
   * Load an identity from a PEM private key file: PKCS#8, or PKCS#1 RSA / SEC1 EC. Refuses a
   * file that group or others may read or write (except on Windows).
   *
   * @throws HipIdentityError `ERR_IDENTITY_INSECURE_KEY_FILE`, `ERR_IDENTITY_KEY_FILE_NOT_FOUND`,
   *   `ERR_IDENTITY_KEY_FILE_IO`, `ERR_IDENTITY_BAD_KEY_FILE`, `ERR_IDENTITY_UNSUPPORTED`.
   */
  static async load(path: string): Promise<HostIdentity> {
    return HostIdentity.fromPrivateKey(await readPrivateKeyFile(path));
  }

  /** Synchronous {@link HostIdentity.load}. */
  static loadSync(path: string): HostIdentity {
    return HostIdentity.fromPrivateKey(readPrivateKeyFileSync(path));
  }

  /**
   * Save the private key as PKCS#8 PEM in a new file created with mode 0600. An existing file is
   * refused unless `{ overwrite: true }`.
   *
   * @throws HipIdentityError `ERR_IDENTITY_KEY_FILE_EXISTS` or `ERR_IDENTITY_KEY_FILE_IO`.
   */
  async save(path: string, options: WriteKeyFileOptions = {}): Promise<void> {
    await writePrivateKeyFile(path, privateKeyToPem(this.privateKey), options);
  }

  /** Synchronous {@link HostIdentity.save}. */
  saveSync(path: string, options: WriteKeyFileOptions = {}): void {
    writePrivateKeyFileSync(path, privateKeyToPem(this.privateKey), options);
  }

  #hostIdentity(version: 1 | 2): EncodedHostIdentity {
    let hi = this.#hostIds.get(version);
    if (!hi) {
      hi = encodeHostIdentity(this.publicKey, version);
      this.#hostIds.set(version, hi);
    }
    return hi;
  }

  /**
   * The Host Identity field and algorithm number for a HOST_ID parameter. For HIPv1 (RSA only)
   * the field excludes the RDATA header, which the wire codec adds.
   *
   * @throws HipIdentityError `ERR_IDENTITY_UNSUPPORTED` for HIPv1 with a non-RSA key or one
   *   over 4096 bits.
   */
  hostIdentity(version: 1 | 2 = 2): EncodedHostIdentity {
    const hi = this.#hostIdentity(version);
    return { algorithm: hi.algorithm, hostIdentity: hi.hostIdentity.slice() };
  }

  /**
   * The HIT: ORCHIDv2 (2001:20::/28, default) or, for RSA identities talking to libhipl,
   * ORCHIDv1 (2001:10::/28).
   *
   * @throws HipIdentityError `ERR_IDENTITY_UNSUPPORTED` for version 1 with a non-RSA key.
   */
  hit(version: 1 | 2 = 2): Uint8Array {
    let hit = this.#hits.get(version);
    if (!hit) {
      const { hostIdentity } = this.#hostIdentity(version);
      hit = version === 1 ? computeHitV1(hostIdentity) : computeHit(hostIdentity, this.hitSuite);
      this.#hits.set(version, hit);
    }
    return hit.slice();
  }

  /** The HIT as canonical IPv6 text. Same errors as {@link HostIdentity.hit}. */
  hitString(version: 1 | 2 = 2): string {
    return formatHit(this.hit(version));
  }

  /** The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), e.g. to hand to a peer. */
  publicKeyPem(): string {
    return publicKeyToPem(this.publicKey);
  }

  /** JSON form without the private key, so logging an identity never leaks it. */
  toJSON(): {
    /** The key algorithm. */
    algorithm: IdentityAlgorithm;
    /** The HIT in IPv6 text form. */
    hit: string;
  } {
    return { algorithm: this.algorithm, hit: this.hitString() };
  }

  /** `util.inspect` form without the private key. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `HostIdentity { algorithm: '${this.algorithm}', hit: '${this.hitString()}' }`;
  }
}

/** A peer's identity as learned from its HOST_ID parameter. */
export interface PublicIdentity {
  /** The peer's public key. */
  publicKey: PublicKeyMaterial;
  /** The HIT computed from the received Host Identity bytes. */
  hit: Uint8Array;
}

/**
 * The peer side: decode a received Host Identity and compute its HIT from the bytes exactly as
 * received (so an ECDSA HI without the 0x04 byte still yields the HIT its owner computed).
 * Compare the result with the packet's sender HIT before trusting the key.
 *
 * @param hostIdentity for HIPv1 the key field after the 4-byte RDATA header.
 * @throws HipIdentityError `ERR_IDENTITY_BAD_HOST_ID` or `ERR_IDENTITY_UNSUPPORTED`.
 * @example
 * ```ts
 * const { publicKey, hit } = loadPublicIdentity(p.algorithm, p.hostIdentity, 2);
 * if (!hitsEqual(hit, packet.senderHit)) throw new Error('HOST_ID does not match the sender HIT');
 * ```
 */
export function loadPublicIdentity(algorithm: number, hostIdentity: Uint8Array, version: 1 | 2): PublicIdentity {
  const publicKey = decodeHostIdentity(algorithm, hostIdentity, version);
  const hit = version === 1 ? computeHitV1(hostIdentity) : computeHit(hostIdentity, hitSuiteOf(publicKey));
  return { publicKey, hit };
}
