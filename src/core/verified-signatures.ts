/**
 * Signatures already verified, remembered by what they cover. A responder signs its R1 once per
 * puzzle generation and sends the same signed bytes to every initiator (HIP_SIGNATURE_2 zeroes
 * the receiver HIT, Opaque and #I, the only parts that differ; RFC 7401 §5.2.15), so a process
 * that makes many base exchanges with one responder (a client with a new host per connection)
 * would verify the very same signature over the very same bytes each time.
 * @module
 */
import { bytesToHex, concatBytes } from '../bytes.js';
import type { CryptoProvider, VerifyingKey } from '../crypto/provider.js';
import type { SignatureScheme } from '../crypto/keys.js';

/**
 * Positive verification results, per verifying key, keyed by SHA-256 of the signed bytes and the
 * signature (and the schemes tried). Only bytes identical to ones that verified under the same
 * key skip the check: anything else, a changed byte or another signature, is verified. Failures
 * are never kept. Bounded: `perKey` results per key (oldest dropped first), and keys go with
 * their `VerifyingKey` objects, which the peer key cache bounds.
 */
export class VerifiedSignatures {
  readonly #byKey = new WeakMap<VerifyingKey, string[]>();

  constructor(
    /** Results kept per key: a responder has one R1 per generation and DH group. */
    readonly perKey = 4,
  ) {}

  /** The identity of a signature over `input` for {@link has} and {@link add}. */
  id(provider: CryptoProvider, input: Uint8Array, signature: Uint8Array, schemes: readonly SignatureScheme[]): string {
    return `${schemes.join(',')}:${bytesToHex(provider.hash('sha256', concatBytes(input, signature)))}`;
  }

  /** Whether `id` verified under `key` before. */
  has(key: VerifyingKey, id: string): boolean {
    return this.#byKey.get(key)?.includes(id) ?? false;
  }

  /** Remember that `id` verified under `key`. */
  add(key: VerifyingKey, id: string): void {
    let ids = this.#byKey.get(key);
    if (!ids) this.#byKey.set(key, (ids = []));
    if (ids.includes(id)) return;
    if (ids.length >= this.perKey) ids.shift();
    ids.push(id);
  }
}
