/**
 * The initiator's half of the base exchange: I1 out, R1 in, I2 out, R2 in.
 * @module
 */
import { bytesEqual } from '../bytes.js';
import { formatHit, hitsEqual, ZERO_HIT } from '../crypto/hit.js';
import { PuzzleSearch } from '../crypto/puzzle.js';
import {
  CONTROL_ANONYMOUS,
  emitParam,
  findTlv,
  getParam,
  getParams,
  PacketType,
  ParamType,
  parsePacket,
  type HipPacket,
  type HipParam,
} from '../wire/index.js';
import { Association, HipState } from './association.js';
import { hitKey, type EngineContext, type LocalSide } from './context.js';
import type { FailureReason, PeerLocator } from './events.js';
import { allowed, chooseFromOffer, isDhChoiceConsistent, isNullHipCipher } from './negotiation.js';
import { bexEvent, errorText, establish, fail, opportunisticKey } from './lifecycle.js';
import { responderRhash } from './peer-key.js';
import { checkMac, sealPacket, verifySigned } from './sealing.js';
import { VerifiedSignatures } from './verified-signatures.js';
import { deriveSessionKeys, hipEncKeyLength } from './session-keys.js';
import { newDhKey } from './dh-private.js';
import { backoff } from './timers.js';
import { startI1Round } from './shotgun.js';

/** The I1 for an association (v1: header only; v2: DH_GROUP_LIST). */
export function buildI1(ctx: EngineContext<PeerLocator>, a: Association<PeerLocator>): Uint8Array {
  const params: HipParam[] = a.version === 2 ? [{ type: ParamType.DH_GROUP_LIST, groups: a.offeredGroups }] : [];
  return sealPacket(
    ctx.provider,
    { version: a.version, type: PacketType.I1, controls: 0, checksum: 0, senderHit: a.localHit, receiverHit: a.peerHit, params },
    undefined,
    undefined,
  );
}

/** Start a BEX: send I1 to each candidate locator in turn (shotgun.ts) and arm the I1 timer. */
export function sendI1<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  a.offeredGroups = [...ctx.config.dhGroups];
  a.state = HipState.I1_SENT;
  a.pending = buildI1(ctx as EngineContext<PeerLocator>, a as Association<PeerLocator>);
  a.pendingType = PacketType.I1;
  a.retries = 0;
  startI1Round(ctx, a, now);
  bexEvent(ctx, a, 'i1-sent', PacketType.I1, now, false);
}

/** Handle an R1 (we are the initiator). */
export function handleR1<L extends PeerLocator>(
  ctx: EngineContext<L>,
  pkt: HipPacket,
  raw: Uint8Array,
  from: L,
  now: number,
): void {
  let a = ctx.associations.get(hitKey(pkt.senderHit));
  if (!a && ctx.config.opportunistic) a = ctx.associations.get(hitKey(opportunisticKey(from)));
  if (!a) {
    // Someone else answered at the locator where we sent an I1: remember it for the failure.
    for (const w of ctx.associations.values()) {
      if (w.state === HipState.I1_SENT && w.candidates.some((c) => c.key === from.key)) {
        w.lastDrop = { reason: 'hit-mismatch', detail: `an R1 from ${formatHit(pkt.senderHit)} answered our I1 to ${formatHit(w.peerHit)}` };
      }
    }
    return ctx.drop('no-association', pkt.type, pkt.senderHit);
  }
  const me = ctx.local(a.version);
  if (!me || pkt.version !== a.version) return ctx.drop('unsupported-version', pkt.type, pkt.senderHit);
  if (!bytesEqual(pkt.receiverHit, me.hit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  if ((pkt.controls & ~CONTROL_ANONYMOUS) !== 0) return ctx.drop('controls', pkt.type, pkt.senderHit);
  const counter = getParam(pkt, ParamType.R1_COUNTER)?.counter;
  if (a.state === HipState.I2_SENT) {
    // RFC 7401 4.4.3: a newer R1 may restart R1 processing; anything else is a duplicate.
    if (a.version === 1 || counter === undefined || a.r1Counter === undefined || counter <= a.r1Counter) {
      return ctx.drop('duplicate', pkt.type, pkt.senderHit);
    }
  } else if (a.state !== HipState.I1_SENT) {
    return ctx.drop('wrong-state', pkt.type, pkt.senderHit);
  }
  if (a.solving && bytesEqual(a.solving.raw, raw)) return ctx.drop('duplicate', pkt.type, pkt.senderHit);

  const hostId = getParam(pkt, ParamType.HOST_ID);
  const puzzle = getParam(pkt, ParamType.PUZZLE);
  const dhParam = getParam(pkt, ParamType.DIFFIE_HELLMAN);
  const sig = getParam(pkt, ParamType.HIP_SIGNATURE_2);
  if (!hostId || !puzzle || !dhParam || !sig) return ctx.drop('missing-parameter', pkt.type, pkt.senderHit);

  let peer;
  try {
    peer = ctx.peerKey(hostId, a.version, pkt.senderHit);
  } catch (e) {
    return ctx.drop('bad-host-id', pkt.type, pkt.senderHit, errorText(e));
  }
  if (!hitsEqual(peer.hit, pkt.senderHit)) {
    a.lastDrop = { reason: 'hit-mismatch', detail: `the R1's HOST_ID does not hash to ${formatHit(pkt.senderHit)}` };
    return ctx.drop('hit-mismatch', pkt.type, pkt.senderHit);
  }
  const verifyingKey = peer.verifyingKey;
  if (!verifySigned(ctx.provider, raw, sig, { verifyingKey, schemes: peer.schemes, hiAlgorithm: hostId.algorithm }, R1_SIGNATURES)) {
    a.lastDrop = { reason: 'bad-signature', detail: 'the R1 signature does not verify' };
    return ctx.drop('bad-signature', pkt.type, pkt.senderHit);
  }

  // The R1 is authentic. An opportunistic association learns its peer HIT here.
  if (hitsEqual(a.peerHit, ZERO_HIT)) {
    ctx.associations.delete(hitKey(opportunisticKey(from)));
    a.peerHit = pkt.senderHit.slice();
    const existing = ctx.associations.get(hitKey(a.peerHit));
    if (existing && existing !== a) return ctx.drop('duplicate', pkt.type, pkt.senderHit);
    ctx.associations.set(hitKey(a.peerHit), a);
  }
  a.locator = from;
  bexEvent(ctx, a, 'r1-received', PacketType.R1, now, false);

  const neg = negotiateR1(ctx, a, pkt, me);
  if ('fail' in neg) return fail(ctx, a, neg.fail, neg.detail);

  const rhash = responderRhash(a.version, pkt.senderHit);
  // Refuse puzzles beyond what we are willing to spend, as libhipl refuses K > 28
  // (HIPV1-PROFILE 10). Expected work is 2^K hashes.
  if (puzzle.k > ctx.config.puzzle.maxDifficulty) {
    return fail(ctx, a, 'puzzle-unsolved', `puzzle difficulty ${puzzle.k} is above our limit ${ctx.config.puzzle.maxDifficulty}`);
  }
  let search: PuzzleSearch;
  try {
    search = new PuzzleSearch(ctx.provider, { hash: rhash, i: puzzle.i, hitI: me.hit, hitR: pkt.senderHit, k: puzzle.k, jLength: puzzle.i.length, random: ctx.random });
  } catch (e) {
    return fail(ctx, a, 'puzzle-unsolved', errorText(e));
  }
  const r1Raw = raw.slice();
  const r1 = parsePacket(r1Raw);
  const verified = { publicKey: peer.publicKey, verifyingKey, schemes: peer.schemes, hiAlgorithm: hostId.algorithm };
  a.solving = {
    search,
    // 2^(K+6) attempts fail with probability e^-64: only a broken puzzle gets there.
    budget: 2 ** Math.min(puzzle.k + 6, 52),
    // RFC 7401 5.2.4: the solution is only good for 2^(Lifetime-32) seconds.
    deadline: now + Math.min(2 ** (puzzle.lifetime - 32), MAX_PUZZLE_SECONDS) * 1000,
    raw: r1Raw,
    finish: (j, at) => sendI2(ctx, a!, r1, r1Raw, verified, counter, neg, rhash, j, at),
  };
  continueSolving(ctx, a, now);
}

/**
 * R1 signatures verified in this process, shared by every engine: a responder's R1 is signed
 * once per generation, and a client that makes a new host per connection meets it again and
 * again (verified-signatures.ts).
 */
const R1_SIGNATURES = new VerifiedSignatures();

/** The longest we keep solving one puzzle, whatever lifetime the R1 grants. */
const MAX_PUZZLE_SECONDS = 64;

/**
 * Work on the association's puzzle for one slice (`puzzle.sliceAttempts` hashes); then either
 * send the I2, fail (lifetime or attempt limit passed), or arm the `solve` timer at `now` so the
 * driver yields to its event loop before the next slice. A small K is solved in the first slice.
 */
export function continueSolving<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, now: number): void {
  const job = a.solving;
  if (!job) return;
  if (now > job.deadline) {
    a.solving = undefined;
    return fail(ctx, a, 'puzzle-unsolved', `puzzle lifetime passed after ${job.search.attempts} attempts`);
  }
  const j = job.search.run(Math.max(1, Math.min(ctx.config.puzzle.sliceAttempts, job.budget - job.search.attempts)));
  if (j === undefined) {
    if (job.search.attempts >= job.budget) {
      a.solving = undefined;
      return fail(ctx, a, 'puzzle-unsolved', `no solution in ${job.search.attempts} attempts`);
    }
    a.setTimer('solve', now);
    return;
  }
  a.solving = undefined;
  job.finish(j, now);
}

/** The puzzle is solved: derive the keys and send the I2. */
function sendI2<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L>,
  pkt: HipPacket,
  raw: Uint8Array,
  verified: NonNullable<Association<L>['peer']>,
  counter: bigint | undefined,
  neg: Negotiated,
  rhash: ReturnType<typeof responderRhash>,
  j: Uint8Array,
  now: number,
): void {
  const me = ctx.local(a.version)!;
  const puzzle = getParam(pkt, ParamType.PUZZLE)!;
  const dhParam = getParam(pkt, ParamType.DIFFIE_HELLMAN)!;
  const peerValue = dhParam.values.find((v) => v.group === neg.group);
  if (!peerValue) return ctx.drop('bad-dh', pkt.type, pkt.senderHit);
  const dh = newDhKey(ctx.provider, ctx.random, neg.group);
  let kij: Uint8Array;
  try {
    kij = ctx.provider.dhCompute(dh, peerValue.publicValue);
  } catch (e) {
    return ctx.drop('bad-dh', pkt.type, pkt.senderHit, errorText(e));
  }
  const keys = deriveSessionKeys(ctx.provider, {
    version: a.version,
    rhash,
    kij,
    puzzleI: puzzle.i,
    puzzleJ: j,
    localHit: me.hit,
    peerHit: a.peerHit,
    hipEncKeyLength: hipEncKeyLength(a.version, neg.hipCipher),
    espSuite: neg.espSuite,
  });

  if (a.sa) ctx.releaseSpi(a.sa.localSpi);
  const localSpi = ctx.allocateSpi();
  a.peer = verified;
  a.hipKeys = keys.hip;
  a.sa = { ...keys.esp, localSpi, peerSpi: 0 };
  a.dh = dh;
  a.r1Counter = counter;
  const hostIdTlv = findTlv(raw, ParamType.HOST_ID);
  a.r1HostIdTlv = hostIdTlv ? hostIdTlv.slice() : undefined;

  const i2 = buildI2(ctx, a, me, pkt, { j, dhPublic: dh.publicValue, ...neg });
  a.state = HipState.I2_SENT;
  a.pending = i2;
  a.pendingType = PacketType.I2;
  a.retries = 0;
  ctx.transmit({ to: a.locator, packet: i2, packetType: PacketType.I2, version: a.version });
  a.setTimer('retransmit', now + backoff(ctx.config.retransmit, 0));
  bexEvent(ctx, a, 'i2-sent', PacketType.I2, now, false);
}

interface Negotiated {
  group: number;
  hipCipher: number;
  espSuite: number;
}

function negotiateR1<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L>,
  pkt: HipPacket,
  me: LocalSide,
): Negotiated | { fail: FailureReason; detail?: string } {
  const cfg = ctx.config;
  const dhValues = getParam(pkt, ParamType.DIFFIE_HELLMAN)?.values ?? [];
  const espOffer = getParam(pkt, ParamType.ESP_TRANSFORM)?.suites ?? [];
  if (a.version === 1) {
    const group = cfg.dhGroupsV1.find((g) => dhValues.some((v) => v.group === g));
    if (group === undefined) return { fail: 'no-common-dh-group' };
    const hipCipher = chooseFromOffer(getParam(pkt, ParamType.HIP_TRANSFORM)?.suites ?? [], allowed(cfg.hipTransformsV1, [5], cfg.allowInsecure));
    if (hipCipher === undefined) return { fail: 'no-common-cipher' };
    const espSuite = chooseFromOffer(espOffer, allowed(cfg.espSuitesV1, [5, 7], cfg.allowInsecure));
    if (espSuite === undefined) return { fail: 'no-common-esp-transform' };
    return { group, hipCipher, espSuite };
  }
  const used = dhValues[0]?.group;
  const responderList = getParam(pkt, ParamType.DH_GROUP_LIST)?.groups ?? [];
  if (used === undefined || dhValues.length !== 1) return { fail: 'no-common-dh-group' };
  if (!isDhChoiceConsistent(used, responderList, a.offeredGroups)) {
    return { fail: 'dh-downgrade', detail: `R1 used group ${used}, its list ${responderList.join(',')}, we offered ${a.offeredGroups.join(',')}` };
  }
  const suites = getParam(pkt, ParamType.HIT_SUITE_LIST)?.suites ?? [];
  if (!suites.includes(me.hitSuite << 4)) return { fail: 'unsupported-hit-suite' };
  const hipCipher = chooseFromOffer(getParam(pkt, ParamType.HIP_CIPHER)?.ciphers ?? [], allowed(cfg.hipCiphers, [1], cfg.allowInsecure));
  if (hipCipher === undefined) return { fail: 'no-common-cipher' };
  const formats = getParam(pkt, ParamType.TRANSPORT_FORMAT_LIST)?.formats ?? [];
  if (!formats.includes(ParamType.ESP_TRANSFORM)) return { fail: 'no-common-esp-transform', detail: 'no ESP transport format' };
  const espSuite = chooseFromOffer(espOffer, allowed(cfg.espSuites, [7], cfg.allowInsecure));
  if (espSuite === undefined) return { fail: 'no-common-esp-transform' };
  return { group: used, hipCipher, espSuite };
}

function buildI2<L extends PeerLocator>(
  ctx: EngineContext<L>,
  a: Association<L>,
  me: LocalSide,
  r1: HipPacket,
  n: Negotiated & { j: Uint8Array; dhPublic: Uint8Array },
): Uint8Array {
  const puzzle = getParam(r1, ParamType.PUZZLE)!;
  const sa = a.sa!;
  const keys = a.hipKeys!;
  const params: HipParam[] = [{ type: ParamType.ESP_INFO, reserved: 0, keymatIndex: sa.keymatIndex, oldSpi: 0, newSpi: sa.localSpi }];
  const r1Counter = getParam(r1, ParamType.R1_COUNTER);
  if (a.version === 2 && r1Counter) params.push({ type: ParamType.R1_COUNTER, reserved: r1Counter.reserved, counter: r1Counter.counter });
  params.push({ type: ParamType.SOLUTION, k: puzzle.k, reserved: 0, opaque: puzzle.opaque, i: puzzle.i, j: n.j });
  params.push({ type: ParamType.DIFFIE_HELLMAN, values: [{ group: n.group, publicValue: n.dhPublic }] });
  if (a.version === 1) {
    params.push({ type: ParamType.HIP_TRANSFORM, suites: [n.hipCipher] });
  } else {
    params.push({ type: ParamType.HIP_CIPHER, ciphers: [n.hipCipher] });
    const nat = getParam(r1, ParamType.NAT_TRAVERSAL_MODE);
    if (ctx.config.natMode && nat?.modes.includes(1)) params.push({ type: ParamType.NAT_TRAVERSAL_MODE, reserved: 0, modes: [1] });
  }
  params.push(ctx.config.encryptHostId ? encryptHostId(ctx, a, me, n.hipCipher, keys.encOut) : me.hostId);
  const reg = ctx.registry.regRequest(ctx, a.peerHit, r1);
  if (reg) params.push(reg);
  if (a.version === 2) {
    const echo = getParam(r1, ParamType.ECHO_REQUEST_SIGNED);
    if (echo) params.push({ type: ParamType.ECHO_RESPONSE_SIGNED, opaque: echo.opaque });
    params.push({ type: ParamType.TRANSPORT_FORMAT_LIST, formats: [ParamType.ESP_TRANSFORM] });
  }
  params.push({ type: ParamType.ESP_TRANSFORM, reserved: 0, suites: [n.espSuite] });
  const trailing: HipParam[] = getParams(r1, ParamType.ECHO_REQUEST_UNSIGNED).map((e) => ({
    type: ParamType.ECHO_RESPONSE_UNSIGNED,
    opaque: e.opaque,
  }));
  return sealPacket(
    ctx.provider,
    { version: a.version, type: PacketType.I2, controls: 0, checksum: 0, senderHit: me.hit, receiverHit: a.peerHit, params },
    { type: ParamType.HIP_MAC, hash: keys.macHash, key: keys.macOut },
    { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
    trailing,
  );
}

function encryptHostId<L extends PeerLocator>(ctx: EngineContext<L>, a: Association<L>, me: LocalSide, cipher: number, key: Uint8Array): HipParam {
  const plain = emitParam(me.hostId, a.version);
  const isNull = isNullHipCipher(a.version, cipher);
  if (isNull) return { type: ParamType.ENCRYPTED, reserved: 0, data: plain };
  const iv = ctx.random(16);
  const ct = ctx.provider.aesCbcEncrypt(key, iv, plain);
  const data = new Uint8Array(16 + ct.length);
  data.set(iv);
  data.set(ct, 16);
  return { type: ParamType.ENCRYPTED, reserved: 0, data };
}

/** Handle an R2 (we are the initiator in I2-SENT). */
export function handleR2<L extends PeerLocator>(ctx: EngineContext<L>, pkt: HipPacket, raw: Uint8Array, from: L, now: number): void {
  const a = ctx.associations.get(hitKey(pkt.senderHit));
  if (!a) return ctx.drop('no-association', pkt.type, pkt.senderHit);
  if (a.state !== HipState.I2_SENT) return ctx.drop(a.state === HipState.ESTABLISHED ? 'duplicate' : 'wrong-state', pkt.type, pkt.senderHit);
  if (pkt.version !== a.version || !bytesEqual(pkt.receiverHit, a.localHit)) return ctx.drop('wrong-receiver-hit', pkt.type, pkt.senderHit);
  if (pkt.controls !== 0) return ctx.drop('controls', pkt.type, pkt.senderHit);
  const mac = getParam(pkt, ParamType.HIP_MAC_2);
  const sig = getParam(pkt, ParamType.HIP_SIGNATURE);
  const espInfo = getParam(pkt, ParamType.ESP_INFO);
  if (!mac || !sig || !espInfo) return ctx.drop('missing-parameter', pkt.type, pkt.senderHit);
  const keys = a.hipKeys!;
  if (!a.r1HostIdTlv || !checkMac(ctx.provider, raw, mac.mac, { type: ParamType.HIP_MAC_2, hash: keys.macHash, key: keys.macIn, responderHostIdTlv: a.r1HostIdTlv })) {
    return ctx.drop('bad-mac', pkt.type, pkt.senderHit);
  }
  if (!verifySigned(ctx.provider, raw, sig, a.peer!)) {
    a.lastDrop = { reason: 'bad-signature', detail: 'the R2 signature does not verify' };
    return ctx.drop('bad-signature', pkt.type, pkt.senderHit);
  }
  a.sa!.peerSpi = espInfo.newSpi;
  a.locator = from;
  bexEvent(ctx, a, 'r2-received', PacketType.R2, now, false);
  establish(ctx, a, now);
  ctx.registry.result(ctx, pkt, a, now);
}

