/**
 * Decoded and imported peer keys, shared by every engine of the process and keyed by the HOST_ID
 * bytes: a client that makes a new host (and engine) per connection meets the same responder
 * key each time, and decoding, hashing to a HIT and importing a key cost more than verifying
 * with it. An entry is a pure function of its key, so sharing it between engines leaks nothing.
 * @module
 */
import { bytesToHex } from '../bytes.js';
import { hitSuite } from '../crypto/hit.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { HostIdParam } from '../wire/index.js';
import type { CachedPeerKey } from './context.js';
import { decodePeerKey } from './peer-key.js';

/** Peer keys kept per provider (least recently used evicted first). */
export const PEER_KEY_CACHE = 1024;

const byProvider = new WeakMap<CryptoProvider, Map<string, CachedPeerKey>>();

/**
 * A peer's decoded key, HIT and verifying key for a HOST_ID, from the cache or decoded and
 * imported now. Throws what decoding throws (a bad HOST_ID is never cached).
 */
export function cachedPeerKey(provider: CryptoProvider, hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array): CachedPeerKey {
  let cache = byProvider.get(provider);
  if (!cache) byProvider.set(provider, (cache = new Map()));
  const key = cacheKey(hostId, version, claimedHit);
  let k = cache.get(key);
  if (k) {
    cache.delete(key);
  } else {
    const decoded = decodePeerKey(hostId, version, claimedHit);
    k = { ...decoded, verifyingKey: provider.importVerifyingKey(decoded.publicKey) };
    if (cache.size >= PEER_KEY_CACHE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, k); // most recently used last
  return k;
}

/**
 * The HIT a HOST_ID hashes to, if its key is cached (no decoding, hashing or import when not):
 * a responder checks an I2's HOST_ID against the sender's HIT before it spends a DH
 * computation, and a returning initiator's is usually known.
 */
export function knownPeerHit(provider: CryptoProvider, hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array): Uint8Array | undefined {
  return byProvider.get(provider)?.get(cacheKey(hostId, version, claimedHit))?.hit;
}

function cacheKey(hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array): string {
  // The suite of the claimed HIT picks the hash (as decodePeerKey reads it), so it is part of the key.
  return `${version}:${hostId.algorithm}:${version === 2 ? (hitSuite(claimedHit) ?? 0) : 0}:${bytesToHex(hostId.hostIdentity)}`;
}
