/**
 * Issue 13: after its readdressing UPDATE hipd re-installs its SAs, and both ends start their ESP
 * sequence numbers at 1 again on the same SPIs and keys (hipd-v1-update-locator.pcap; checked in
 * test/wire/hipd-captures.test.ts). A receiver that kept its replay window would drop everything
 * hipd sends after a move until hipd's counter passes where it stood before. Here two hipl hosts
 * in hipd's form ('32bit') move over real UDP sockets through an in-process NAT, and each then
 * restarts its own counter as hipd does: both must still hear each other, whichever side moved.
 * Without a readdress, or in the RFC 5202 form, a restarted counter is still refused as replays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { OutboundSa, type EspSequenceMode } from '../../src/esp/sa.js';
import { HipHost } from '../../src/host/host.js';
import { startNat } from '../helpers/udp-nat.js';
import { until } from '../helpers/transport-sockets.js';

const LO = '127.0.0.1';
const RSA_A = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const RSA_B = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const enc = (t: string) => new TextEncoder().encode(t);

function received(h: HipHost, port: number): string[] {
  const got: string[] = [];
  h.bindDatagramPort(port, (d) => got.push(Buffer.from(d).toString()));
  return got;
}

/** What hipd does to its own end after a readdress: the same SA, its counter back at 0. */
function restartCounter(h: HipHost, peer: string): void {
  const s = h.sessionFor(peer)!;
  const { sa } = s;
  (s as { outbound: OutboundSa }).outbound = new OutboundSa(
    { suite: sa.suite, spi: sa.peerSpi, encKey: sa.outbound.enc, authKey: sa.outbound.auth },
    { sequence: s.espSequence, initialSeq: 0n },
  );
}

/** a (behind the NAT) and b in HIPv1 with ESP in form `mode`, 5 datagrams each way already seen. */
async function pair(mode: EspSequenceMode = '32bit') {
  const a = await HipHost.create({ udp: { address: LO }, identity: RSA_A, espSequenceV1: mode });
  const b = await HipHost.create({ udp: { address: LO }, identity: RSA_B, espSequenceV1: mode });
  cleanup.push(() => a.shutdown(200), () => b.shutdown(200));
  const nat = await startNat(b.udpAddress!.port, cleanup);
  a.peers.add(b.hit(1), { address: LO, port: nat.port });
  const atA = received(a, 8);
  const atB = received(b, 7);
  expect((await a.connect(b.hit(1))).espSequence).toBe(mode);
  for (let i = 0; i < 5; i++) {
    await a.sendDatagram(b.hit(1), 8, 7, enc(`a${i}`));
    await b.sendDatagram(a.hit(1), 7, 8, enc(`b${i}`));
  }
  await until(() => atA.length === 5 && atB.length === 5, 5000, 'five each way');
  atA.length = 0;
  atB.length = 0;
  return { a, b, nat, atA, atB };
}

/** Both ends restart their counters; 3 datagrams each way afterwards. */
async function afterRestart(a: HipHost, b: HipHost): Promise<void> {
  restartCounter(a, b.hit(1));
  restartCounter(b, a.hit(1));
  for (let i = 0; i < 3; i++) {
    await a.sendDatagram(b.hit(1), 8, 7, enc(`A${i}`));
    await b.sendDatagram(a.hit(1), 7, 8, enc(`B${i}`));
  }
}

describe("hipd's readdress: both ends' sequence numbers start at 1 again", () => {
  it('the peer of a host that moved takes the restarted counter, and so does the host that moved', async () => {
    const { a, b, nat, atA, atB } = await pair();
    const moved = new Promise<{ port: number }>((r) => b.once('locator', r));
    await nat.rebind();
    a.updateLocators();
    expect((await moved).port).toBe(nat.externalPort());
    await afterRestart(a, b);
    await until(() => atA.length === 3 && atB.length === 3, 5000, 'three each way after the move');
    expect(atB).toEqual(['A0', 'A1', 'A2']);
    expect(atA).toEqual(['B0', 'B1', 'B2']);
    expect(a.associationStats(b.hit(1))!.drops).toEqual({});
    expect(b.associationStats(a.hit(1))!.drops).toEqual({});
  });

  async function refused(a: HipHost, b: HipHost, atA: string[], atB: string[]): Promise<void> {
    await afterRestart(a, b);
    await until(() => b.associationStats(a.hit(1))!.drops.replay === 3 && a.associationStats(b.hit(1))!.drops.replay === 3, 5000, 'three replays each way');
    expect([atA, atB]).toEqual([[], []]);
  }

  it('without a readdress, a restarted counter is still a replay', async () => {
    const { a, b, atA, atB } = await pair();
    await refused(a, b, atA, atB);
  });

  it('an SA in the RFC 5202 form (the default) keeps its replay window across a readdress', async () => {
    const { a, b, nat, atA, atB } = await pair('esn');
    const moved = new Promise<{ port: number }>((r) => b.once('locator', r));
    await nat.rebind();
    a.updateLocators();
    await moved;
    await refused(a, b, atA, atB);
  });
});
