/**
 * Issue 8 item 2: an authentic ESP packet re-sent by an attacker from another address must not
 * redirect the association. One ESP packet from the initiator is withheld on the way (a relay
 * stands in for the network), then the attacker sends it from its own port: the responder must
 * keep answering at the verified locator.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { startUdpRelay, type UdpRelay } from '../helpers/udp-relay.js';

const LO = '127.0.0.1';
const enc = (s: string) => new TextEncoder().encode(s);
const isEsp = (b: Uint8Array) => b.length >= 8 && (b[0]! | b[1]! | b[2]! | b[3]!) !== 0;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function attackerSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, LO, () => resolve(s));
    cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  });
}

describe('locator changes need verification (issue 8 item 2)', () => {
  it('a withheld ESP packet re-sent from another port does not redirect replies', async () => {
    const a = await HipHost.create({ udp: { address: LO } });
    const b = await HipHost.create({ udp: { address: LO } });
    cleanup.push(() => a.shutdown(200), () => b.shutdown(200));
    let withheld: Uint8Array | undefined;
    const relay: UdpRelay = await startUdpRelay({
      target: b.udpAddress!,
      dropFirst: (bytes, dir) => {
        if (dir !== 'toTarget' || withheld || !isEsp(bytes)) return false;
        withheld = bytes.slice();
        return true;
      },
    });
    cleanup.push(() => relay.close());
    a.peers.add(b.hit(), { address: LO, port: relay.address.port });

    const atB: string[] = [];
    let onB: (() => void) | undefined;
    b.bindDatagramPort(7, (d) => {
      atB.push(Buffer.from(d).toString());
      onB?.();
    });
    const untilB = (n: number) => new Promise<void>((r) => (onB = () => atB.length >= n && r()));

    await a.sendDatagram(b.hit(), 5000, 7, enc('withheld'));
    const second = untilB(1);
    await a.sendDatagram(b.hit(), 5000, 7, enc('second'));
    await second;
    expect(withheld).toBeDefined();
    expect(atB).toEqual(['second']);

    // The attacker replays the withheld (fresh, authentic) packet from its own port.
    const attacker = await attackerSocket();
    // The attacker may get a return-routability check (a HIP UPDATE it cannot answer), never data.
    const checks: Uint8Array[] = [];
    const toAttacker = new Promise<'attacker'>((r) =>
      attacker.on('message', (m) => (isEsp(m) ? r('attacker') : checks.push(m))),
    );
    const replayed = untilB(2);
    attacker.send(withheld!, b.udpAddress!.port, LO);
    await replayed;
    expect(atB).toEqual(['second', 'withheld']);

    // b answers by HIT: the reply must reach a (through the relay), not the attacker.
    const toA = new Promise<'a'>((r) => a.bindDatagramPort(5000, () => r('a')));
    await b.sendDatagram(a.hit(), 7, 5000, enc('reply'));
    expect(await Promise.race([toA, toAttacker])).toBe('a');
    expect(b.associationStats(a.hit())!.otherSource).toBe(1);
    expect(checks.every((m) => m[4 + 2]! === 16)).toBe(true);
    expect(b.peerPaths(a.hit()).find((p) => p.key.endsWith(`:${attacker.address().port}`))?.state).toBe('unverified');
  });
});
