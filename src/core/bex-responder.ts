/**
 * The responder's half of the base exchange: I1 in, R1 out (stateless), I2 in, R2 out.
 * @module
 */
import { bytesEqual, view } from '../bytes.js';
import { verifyPuzzle } from '../crypto/puzzle.js';
import { computeHit, computeHitV1, formatHit as formatHitText, hitSuite, hitsEqual, parseHit as parseHitText, ZERO_HIT } from '../crypto/hit.js';
import { HipError } from '../errors.js';
import {
  CONTROL_ANONYMOUS,
  getParam,
  NotifyType,
  PacketType,
  paramTypeName,
  ParamType,
  parseParamAt,
  readTlvSpan,
  type HipPacket,
  type HipParam,
  type HostIdParam,
} from '../wire/index.js';
import { Association, HipState } from './association.js';
import { bexEvent, errorText, establish, hitGreater } from './lifecycle.js';
import { hitKey, type EngineContext, type LocalSide } from './context.js';
import { newDhKey } from './dh-private.js';
import type { PeerLocator } from './events.js';
import { allowed, chooseDhGroup, isNullHipCipher } from './negotiation.js';
import { solutionKey, type Generation } from './responder.js';
import { checkMac, sealPacket, verifySigned } from './sealing.js';
import { withViaRvs } from './registration.js';
import { knownPeerHit } from './peer-key-cache.js';
import { deriveSessionKeys, hipEncKeyLength } from './session-keys.js';

const optional = <T>(v: T | undefined): T[] => (v === undefined ? [] : [v]);

/** Handle an I1: answer with an R1 from the current template; keep no state. */
export function handleI1<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, sender: L, now: number, raw: Uint8Array): void {
  const me = ctx.local(pkt.version);
  if (!me) return ctx.drop('unsupported-version', pkt.type, pkt.senderHit);
  const opportunistic = hitsEqual(pkt.receiverHit, ZERO_HIT);
  if (!opportunistic && !bytesEqual(pkt.receiverHit, me.hit)) {
    // A rendezvous server passes on I1s for its registered clients (RFC 8004).
    if (ctx.registry.forwardI1(ctx, pkt, sender, now)) return;
    return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  }
  // Relayed by our rendezvous server: answer the initiator directly, naming the server in VIA_RVS.
  const relayed = ctx.registry.relayedOrigin(ctx, pkt, raw, sender, now);
  if (relayed === 'bad') return ctx.drop('bad-mac', pkt.type, pkt.senderHit, 'RVS_HMAC');
  const from = relayed?.replyTo ?? sender;
  if (pkt.controls !== 0) return ctx.drop('controls', pkt.type, pkt.senderHit);
  if (hitsEqual(pkt.senderHit, me.hit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit, 'I1 from our own HIT');
  const a = ctx.associations.get(hitKey(pkt.senderHit));
  if (a && a.state === HipState.I1_SENT && !hitGreater(me.hit, pkt.senderHit)) {
    // Simultaneous open (RFC 7401 4.4.3): only the host with the greater HIT answers.
    return ctx.drop('simultaneous-open-lost', pkt.type, pkt.senderHit);
  }
  bexEvent(ctx, a, 'i1-received', PacketType.I1, now, false, pkt.senderHit);

  let group: number;
  if (pkt.version === 2) {
    const offered = getParam(pkt, ParamType.DH_GROUP_LIST)?.groups ?? [];
    // Under load an I1 cannot make us pay for a MODP exponentiation per I2: ECDH only.
    const cheap = ctx.config.dhGroups.filter((g) => ECDH_GROUPS.includes(g));
    const mine = ctx.load.underLoad(now) && cheap.length > 0 ? cheap : ctx.config.dhGroups;
    const chosen = chooseDhGroup(mine, offered);
    if (chosen === undefined) {
      ctx.drop('negotiation', pkt.type, pkt.senderHit, 'no common DH group');
      return ctx.notify(2, pkt.senderHit, from, NotifyType.NO_DH_PROPOSAL_CHOSEN, new Uint8Array(0), now);
    }
    group = chosen;
  } else {
    group = ctx.config.dhGroupsV1[0] ?? 3;
  }
  const k = ctx.load.difficulty(now);
  let gen = ctx.r1.generation(now, k);
  if (gen.k !== k) gen = ctx.r1.rotate(now, k); // load moved K: new R1s, new templates
  const template = ctx.r1.template(gen, pkt.version, group, () => buildR1Template(ctx, me, pkt.version, gen, group));
  const i = ctx.r1.puzzleI(gen, me.rhash, puzzleLength(pkt.version, me), pkt.senderHit, me.hit, from.key);
  const filled = ctx.r1.fill(template, gen, pkt.senderHit, i);
  const r1 = relayed ? withViaRvs(filled, pkt.version, relayed.via) : filled;
  ctx.transmit({ to: from, packet: r1, packetType: PacketType.R1, version: pkt.version });
  bexEvent(ctx, a, 'r1-sent', PacketType.R1, now, false, pkt.senderHit);
}

/** DH groups whose computation costs about as little as a signature check: ECDH P-256, P-384. */
const ECDH_GROUPS = [7, 8];

function puzzleLength(version: 1 | 2, me: LocalSide): number {
  return version === 1 ? 8 : { sha1: 20, sha256: 32, sha384: 48 }[me.rhash];
}

/** Build and sign an R1 with zero receiver HIT, Opaque and #I (HIP_SIGNATURE_2 covers them zeroed). */
function buildR1Template<L extends PeerLocator>(ctx: EngineContext<L>, me: LocalSide, version: 1 | 2, gen: Generation, group: number): Uint8Array {
  const cfg = ctx.config;
  const dh = ctx.r1.dhKey(gen, group, (g) => newDhKey(ctx.provider, ctx.random, g));
  const params: HipParam[] = [];
  const puzzle: HipParam = {
    type: ParamType.PUZZLE,
    k: gen.k,
    lifetime: cfg.puzzle.lifetime,
    opaque: 0,
    i: new Uint8Array(puzzleLength(version, me)),
  };
  if (version === 2) {
    params.push({ type: ParamType.R1_COUNTER, reserved: 0, counter: gen.counter });
    params.push(puzzle);
    params.push({ type: ParamType.DH_GROUP_LIST, groups: cfg.dhGroups });
    params.push({ type: ParamType.DIFFIE_HELLMAN, values: [{ group, publicValue: dh.publicValue }] });
    params.push({ type: ParamType.HIP_CIPHER, ciphers: allowed(cfg.hipCiphers, [1], cfg.allowInsecure) });
    if (cfg.natMode) params.push({ type: ParamType.NAT_TRAVERSAL_MODE, reserved: 0, modes: [1] });
    params.push(me.hostId);
    params.push({ type: ParamType.HIT_SUITE_LIST, suites: SUPPORTED_HIT_SUITES });
    params.push(...optional(ctx.registry.regInfo()));
    params.push({ type: ParamType.TRANSPORT_FORMAT_LIST, formats: [ParamType.ESP_TRANSFORM] });
    params.push({ type: ParamType.ESP_TRANSFORM, reserved: 0, suites: allowed(cfg.espSuites, [7], cfg.allowInsecure) });
  } else {
    // HIPV1-PROFILE 11.2: no R1_COUNTER and no ECHO_REQUEST_SIGNED towards libhipl.
    params.push(puzzle);
    params.push({ type: ParamType.DIFFIE_HELLMAN, values: [{ group, publicValue: dh.publicValue }] });
    params.push({ type: ParamType.HIP_TRANSFORM, suites: allowed(cfg.hipTransformsV1, [5], cfg.allowInsecure) });
    params.push(me.hostId);
    params.push(...optional(ctx.registry.regInfo()));
    params.push({ type: ParamType.ESP_TRANSFORM, reserved: 0, suites: allowed(cfg.espSuitesV1, [5, 7], cfg.allowInsecure) });
  }
  return sealPacket(
    ctx.provider,
    { version, type: PacketType.R1, controls: 0, checksum: 0, senderHit: me.hit, receiverHit: ZERO_HIT, params },
    undefined,
    { type: ParamType.HIP_SIGNATURE_2, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
  );
}

/** HIT suites whose initiators we can verify: ECDSA/SHA-384, RSA/SHA-256, EdDSA (experimental). */
const SUPPORTED_HIT_SUITES = [0x20, 0x10, 0x50];

/** Handle an I2: check puzzle, keys, MAC, identity, signature; create the association; send R2. */
export function handleI2<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): void {
  const me = ctx.local(pkt.version);
  if (!me) return ctx.drop('unsupported-version', pkt.type, pkt.senderHit);
  if (!bytesEqual(pkt.receiverHit, me.hit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  if ((pkt.controls & ~CONTROL_ANONYMOUS) !== 0) return ctx.drop('controls', pkt.type, pkt.senderHit);
  const existing = ctx.associations.get(hitKey(pkt.senderHit));
  // Computed at most once: the duplicate check and, if accepted, the new association need it.
  let digest: Uint8Array | undefined;
  const digestOnce = (): Uint8Array => (digest ??= i2Digest(ctx, raw));
  if (existing?.i2Digest && bytesEqual(existing.i2Digest, digestOnce())) {
    // A retransmitted I2: our R2 was lost. Resend it (v2). libhipl must never get duplicate
    // control traffic (HIPV1-PROFILE 16.10-11), so v1 drops it.
    if (existing.version === 2 && existing.r2 && (existing.state === HipState.R2_SENT || existing.state === HipState.ESTABLISHED)) {
      ctx.transmit({ to: from, packet: existing.r2, packetType: PacketType.R2, version: 2 });
      bexEvent(ctx, existing, 'r2-sent', PacketType.R2, now, true);
    }
    return ctx.drop('duplicate', pkt.type, pkt.senderHit);
  }
  if (existing && existing.state === HipState.I2_SENT && !hitGreater(me.hit, pkt.senderHit)) {
    return ctx.drop('simultaneous-open-lost', pkt.type, pkt.senderHit);
  }
  if (!existing && ctx.associations.size >= ctx.config.maxAssociations) {
    // The table is full: a newcomer is refused before it costs a DH computation or a signature
    // check, and no established association is evicted for it. No NOTIFY either: RFC 7401 has
    // no error type for a responder out of resources, and a reply would be work for a stranger.
    return ctx.drop('association-limit', pkt.type, pkt.senderHit, `${ctx.associations.size} associations`);
  }

  const solution = getParam(pkt, ParamType.SOLUTION);
  const dhParam = getParam(pkt, ParamType.DIFFIE_HELLMAN);
  const espInfo = getParam(pkt, ParamType.ESP_INFO);
  const mac = getParam(pkt, ParamType.HIP_MAC);
  const sig = getParam(pkt, ParamType.HIP_SIGNATURE);
  const espTransform = getParam(pkt, ParamType.ESP_TRANSFORM);
  const cipherIds = pkt.version === 1 ? getParam(pkt, ParamType.HIP_TRANSFORM)?.suites : getParam(pkt, ParamType.HIP_CIPHER)?.ciphers;
  if (!solution || !dhParam || !espInfo || !mac || !sig || !espTransform || !cipherIds) {
    return ctx.drop('missing-parameter', pkt.type, pkt.senderHit);
  }

  // Puzzle first: it is cheap and proves the initiator spent the work we asked for.
  const gen = ctx.r1.generationForOpaque(solution.opaque);
  if (!gen) return ctx.drop('stale-puzzle', pkt.type, pkt.senderHit);
  if (solution.k !== gen.k || !ctx.r1.isOurI(gen, me.rhash, solution.i, pkt.senderHit, me.hit, from.key)) {
    return ctx.drop('bad-puzzle', pkt.type, pkt.senderHit);
  }
  if (!verifyPuzzle(ctx.provider, { hash: me.rhash, i: solution.i, hitI: pkt.senderHit, hitR: me.hit, j: solution.j, k: solution.k })) {
    return ctx.drop('bad-puzzle', pkt.type, pkt.senderHit);
  }
  if (pkt.version === 2) {
    const counter = getParam(pkt, ParamType.R1_COUNTER);
    if (counter && counter.counter !== gen.counter) return ctx.drop('stale-puzzle', pkt.type, pkt.senderHit);
  }
  // The DH key is fixed for the generation: a solution that already built an association would
  // derive the very same keys again and restart their ESP sequence numbers (key/nonce reuse).
  const solved = solutionKey(pkt.senderHit, solution.i, solution.j);
  const seen = ctx.r1.solutionState(gen, solved);
  if (seen !== 'fresh') return ctx.drop('replay', pkt.type, pkt.senderHit, `puzzle solution already ${seen === 'accepted' ? 'used' : 'tried'}`);

  // Negotiated values must be ones we offered.
  const dhValue = dhParam.values[0];
  const cfg = ctx.config;
  const hipCipher = cipherIds[0];
  const espSuite = espTransform.suites[0];
  const offeredCiphers = pkt.version === 1 ? allowed(cfg.hipTransformsV1, [5], cfg.allowInsecure) : allowed(cfg.hipCiphers, [1], cfg.allowInsecure);
  const offeredEsp = pkt.version === 1 ? allowed(cfg.espSuitesV1, [5, 7], cfg.allowInsecure) : allowed(cfg.espSuites, [7], cfg.allowInsecure);
  const dh = dhValue ? gen.dh.get(dhValue.group) : undefined;
  if (!dhValue || !dh) {
    ctx.drop('negotiation', pkt.type, pkt.senderHit, 'DH group not offered');
    return ctx.notify(pkt.version, pkt.senderHit, from, NotifyType.INVALID_DH_CHOSEN, new Uint8Array(0), now);
  }
  if (hipCipher === undefined || cipherIds.length !== 1 || !offeredCiphers.includes(hipCipher)) {
    ctx.drop('negotiation', pkt.type, pkt.senderHit, 'HIP cipher not offered');
    return ctx.notify(pkt.version, pkt.senderHit, from, NotifyType.INVALID_HIP_CIPHER_CHOSEN, new Uint8Array(0), now);
  }
  if (espSuite === undefined || espTransform.suites.length !== 1 || !offeredEsp.includes(espSuite)) {
    ctx.drop('negotiation', pkt.type, pkt.senderHit, 'ESP transform not offered');
    return ctx.notify(pkt.version, pkt.senderHit, from, NotifyType.INVALID_ESP_TRANSFORM_CHOSEN, new Uint8Array(0), now);
  }
  // Cheap before expensive: a HOST_ID in clear must hash to the sender's HIT before we spend a
  // DH computation on the I2 (an ENCRYPTED one is checked once it can be decrypted).
  const clearHostId = getParam(pkt, ParamType.HOST_ID);
  if (clearHostId && !hostIdNamesSender(ctx, pkt, clearHostId, from, now)) return;
  ctx.load.noteDh(now);
  if (ctx.r1.noteAttempt(gen, solved)) ctx.r1.rotate(now, ctx.load.difficulty(now));
  let kij: Uint8Array;
  try {
    kij = ctx.provider.dhCompute(dh, dhValue.publicValue);
  } catch (e) {
    return ctx.drop('bad-dh', pkt.type, pkt.senderHit, errorText(e));
  }
  const keys = deriveSessionKeys(ctx.provider, {
    version: pkt.version,
    rhash: me.rhash,
    kij,
    puzzleI: solution.i,
    puzzleJ: solution.j,
    localHit: me.hit,
    peerHit: pkt.senderHit,
    hipEncKeyLength: hipEncKeyLength(pkt.version, hipCipher),
    espSuite,
  });
  if (espInfo.keymatIndex !== keys.esp.keymatIndex) return ctx.drop('negotiation', pkt.type, pkt.senderHit, 'KEYMAT index');
  // MAC before signature: a forged I2 costs an HMAC, not a signature check.
  if (!checkMac(ctx.provider, raw, mac.mac, { type: ParamType.HIP_MAC, hash: keys.hip.macHash, key: keys.hip.macIn })) {
    return ctx.drop('bad-mac', pkt.type, pkt.senderHit);
  }
  let hostId: HostIdParam | undefined;
  try {
    hostId = i2HostId(ctx, pkt, hipCipher, keys.hip.encIn);
  } catch (e) {
    return ctx.drop('bad-host-id', pkt.type, pkt.senderHit, errorText(e));
  }
  if (!hostId) return ctx.drop('missing-parameter', pkt.type, pkt.senderHit, 'HOST_ID');
  if (!clearHostId && !hostIdNamesSender(ctx, pkt, hostId, from, now)) return;
  let peer;
  try {
    peer = ctx.peerKey(hostId, pkt.version, pkt.senderHit);
  } catch (e) {
    return ctx.drop('bad-host-id', pkt.type, pkt.senderHit, errorText(e));
  }
  const verifyingKey = peer.verifyingKey;
  if (!verifySigned(ctx.provider, raw, sig, { verifyingKey, schemes: peer.schemes, hiAlgorithm: hostId.algorithm })) {
    ctx.drop('bad-signature', pkt.type, pkt.senderHit);
    return ctx.notify(pkt.version, pkt.senderHit, from, NotifyType.AUTHENTICATION_FAILED, new Uint8Array(0), now);
  }
  if (!policyAllows(ctx, pkt.senderHit, pkt.version)) {
    ctx.drop('policy', pkt.type, pkt.senderHit);
    // The peer proved its identity (signature verified): it gets a signed refusal.
    return ctx.notify(pkt.version, pkt.senderHit, from, NotifyType.BLOCKED_BY_POLICY, new Uint8Array(0), now, true);
  }
  bexEvent(ctx, existing, 'i2-received', PacketType.I2, now, false, pkt.senderHit);
  ctx.r1.noteAccepted(gen, solved);

  // Accepted: a new association replaces any earlier one with this peer (RFC 7401 4.4.3).
  if (existing?.sa) ctx.releaseSpi(existing.sa.localSpi);
  const a = new Association<L>(pkt.version, me.hit, pkt.senderHit.slice(), from, now);
  a.role = 'responder';
  a.peer = { publicKey: peer.publicKey, verifyingKey, schemes: peer.schemes, hiAlgorithm: hostId.algorithm };
  a.hipKeys = keys.hip;
  a.sa = { ...keys.esp, localSpi: ctx.allocateSpi(), peerSpi: espInfo.newSpi };
  a.i2Digest = digestOnce();
  ctx.associations.set(hitKey(a.peerHit), a);
  // A BEX of ours still under way with this peer started the exchange (elapsedMs counts from
  // it); an association that was set up or torn down before did not: this BEX is a new one.
  if (existing && (existing.state === HipState.I1_SENT || existing.state === HipState.I2_SENT)) a.startedAt = existing.startedAt;

  const template = ctx.r1.template(gen, pkt.version, dhValue.group, () => {
    throw new Error('R1 template vanished');
  });
  const r2 = sealPacket(
    ctx.provider,
    {
      version: pkt.version,
      type: PacketType.R2,
      controls: 0,
      checksum: 0,
      senderHit: me.hit,
      receiverHit: a.peerHit,
      params: [
        { type: ParamType.ESP_INFO, reserved: 0, keymatIndex: a.sa.keymatIndex, oldSpi: 0, newSpi: a.sa.localSpi },
        ...ctx.registry.answer(ctx, pkt, a, now),
      ],
    },
    { type: ParamType.HIP_MAC_2, hash: keys.hip.macHash, key: keys.hip.macOut, responderHostIdTlv: template.hostIdTlv },
    { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
  );
  // Only v2 resends it (see the duplicate check above); the peer's first authenticated packet
  // frees it (Association.confirm).
  if (pkt.version === 2) a.r2 = r2;
  ctx.transmit({ to: from, packet: r2, packetType: PacketType.R2, version: pkt.version });
  bexEvent(ctx, a, 'r2-sent', PacketType.R2, now, false);
  establish(ctx, a, now);
}

/**
 * Does the I2's HOST_ID hash to the HIT its sender claims? If not, the I2 is dropped
 * (`hit-mismatch`) and answered with NOTIFY INVALID_HIT. Costs one hash, no key import.
 */
function hostIdNamesSender<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, hostId: HostIdParam, from: L, now: number): boolean {
  let hit: Uint8Array;
  try {
    hit =
      knownPeerHit(ctx.provider, hostId, pkt.version, pkt.senderHit) ??
      (pkt.version === 1 ? computeHitV1(hostId.hostIdentity) : computeHit(hostId.hostIdentity, hitSuite(pkt.senderHit) ?? 0));
  } catch (e) {
    ctx.drop('bad-host-id', pkt.type, pkt.senderHit, errorText(e));
    return false;
  }
  if (hitsEqual(hit, pkt.senderHit)) return true;
  ctx.drop('hit-mismatch', pkt.type, pkt.senderHit);
  ctx.notify(pkt.version, pkt.senderHit, from, NotifyType.INVALID_HIT, new Uint8Array(0), now);
  return false;
}

/** The initiator's HOST_ID from an I2: in clear, or decrypted from ENCRYPTED. */
function i2HostId<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, cipher: number, key: Uint8Array): HostIdParam | undefined {
  const clear = getParam(pkt, ParamType.HOST_ID);
  if (clear) return clear;
  const enc = getParam(pkt, ParamType.ENCRYPTED);
  if (!enc) return undefined;
  const isNull = isNullHipCipher(pkt.version, cipher);
  let plain: Uint8Array;
  if (isNull) plain = enc.data;
  else {
    if (enc.data.length < 32) throw new HipError('ERR_HIP_ENCRYPTED', 'ENCRYPTED too short');
    plain = ctx.provider.aesCbcDecrypt(key, enc.data.subarray(0, 16), enc.data.subarray(16));
  }
  // The plaintext is whole TLVs; anything after them (cipher padding) is ignored (HIP-DIGEST 11.12).
  const span = readTlvSpan(plain, 0, plain.length);
  if (span.type !== ParamType.HOST_ID) throw new HipError('ERR_HIP_ENCRYPTED', `ENCRYPTED holds ${paramTypeName(span.type)}, not HOST_ID`);
  return parseParamAt(plain, view(plain), 0, span.type, span.length, pkt.version) as HostIdParam;
}

function policyAllows<L extends PeerLocator>(ctx: EngineContext<L>, hit: Uint8Array, version: 1 | 2): boolean {
  const policy = ctx.config.policy;
  if (policy === undefined) return true;
  const text = formatHitText(hit);
  if (typeof policy === 'function') return policy({ hit: text, version });
  return policy.some((h) => {
    try {
      return formatHitText(parseHitText(h)) === text;
    } catch {
      return false;
    }
  });
}

/**
 * What identifies an I2 for the duplicate check: SHA-256 of its bytes with the checksum field
 * (bytes 4-5, which no MAC covers) zeroed, so a copy with another checksum is the same I2.
 */
function i2Digest<L extends PeerLocator>(ctx: EngineContext<L>, raw: Uint8Array): Uint8Array {
  const copy = raw.slice();
  if (copy.length >= 6) copy[4] = copy[5] = 0;
  return ctx.provider.hash('sha256', copy);
}
