/**
 * Through a real Linux NAT (issue 10): network namespaces, veth pairs and iptables MASQUERADE
 * built by the test, with hipl processes inside. An initiator behind the NAT reaches a public
 * responder over UDP and over TCP; datagrams and a stream flow both ways.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractEspPackets } from '../../src/wire/ip-frames.js';
import { readCapture } from '../../src/wire/pcap-reader.js';
import type { Peer } from '../host/processes.js';
import { NetLab, PUBLIC_NET, skipWithoutNetns, type NatRouter } from '../helpers/netns.js';
import { bothWays, datagram, NAT_PEER, type Ready } from './exchange.js';

const fixture = NAT_PEER;
const replayer = fileURLToPath(new URL('./fixtures/udp-replayer.ts', import.meta.url));

let lab: NetLab | undefined;
const tmp: string[] = [];
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
  for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Public responder at .10, initiator behind NAT `nat1` (WAN .1, LAN 10.1.0.0/24). */
async function natPair(carrier: 'udp' | 'tcp', initiator: Record<string, unknown> = {}): Promise<{ lab: NetLab; nat: NatRouter; r: Peer; i: Peer; rHit: string }> {
  lab = await NetLab.create();
  const rNs = await lab.publicHost('r', 10);
  const nat = await lab.nat('nat1', 1);
  const iNs = await lab.privateHost('i', nat, 2);
  const r = await lab.startPeer(rNs, { udpPort: 10500, tcpPort: 10500 }, fixture);
  const ready = (await r.waitFor('ready')).ready as Ready;
  const i = await lab.startPeer(iNs, { peer: { hit: ready.hit, address: `${PUBLIC_NET}.10`, port: 10500, carrier }, ...initiator }, fixture);
  return { lab, nat, r, i, rHit: ready.hit };
}

describe.skipIf(skipWithoutNetns())('real NAT: initiator behind MASQUERADE, public responder', () => {
  for (const carrier of ['udp', 'tcp'] as const) {
    it(`over ${carrier.toUpperCase()}: BEX, datagrams and a stream both ways`, async () => {
      const { r, i } = await natPair(carrier);
      i.send({ op: 'connect' });
      const est = (await r.waitFor('established')).established as { address: string; carrier: string };
      // The responder sees the NAT's public address, not the initiator's private one.
      expect(est.address).toBe(`${PUBLIC_NET}.1`);
      expect(est.carrier).toBe(carrier);
      await i.waitFor('established');
      await bothWays(i, r);
    });
  }

  it('an authentic ESP packet replayed from a third host first does not redirect the responder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hipl-replay-'));
    tmp.push(dir);
    const pcap = join(dir, 'i.pcap');
    const { lab, nat, r, i } = await natPair('udp', { host: { pcap } });
    const x = await lab.startPeer(await lab.publicHost('x', 66), { to: { address: `${PUBLIC_NET}.10`, port: 10500 } }, replayer);
    i.send({ op: 'connect' });
    await r.waitFor('established');
    await datagram(i, r, 'hello');
    await datagram(r, i, 'hello-back');

    // An on-path observer holds back the initiator's next ESP packet (the NAT forwards nothing
    // for a moment) and sends it from its own address first: fresh sequence number, valid ICV.
    await lab.blockForwarding(nat, true);
    i.send({ op: 'send', text: 'captured' });
    await i.waitLine((l) => l.sent === 'captured');
    const esp = extractEspPackets(readCapture(readFileSync(pcap))).filter((e) => e.dst === `${PUBLIC_NET}.10`);
    const captured = esp[esp.length - 1]!;
    x.send({ op: 'replay', hex: Buffer.from(captured.esp).toString('hex') });
    await x.waitFor('replayed');
    await lab.blockForwarding(nat, false);

    const from = i.lines.length;
    for (let n = 0; n < 20; n++) r.send({ op: 'send', text: `after-${n}` });
    // Wait for the last one at either end, so a redirect fails on the counts below.
    await Promise.race([i.waitLine((l) => l.datagram === 'after-19', 10_000, from), x.waitLine((l) => 'got' in l, 10_000)]).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 300));
    expect(x.lines.filter((l) => 'got' in l).length, 'datagrams that reached the third host').toBe(0);
    const got = i.lines.slice(from).filter((l) => typeof l.datagram === 'string' && l.datagram.startsWith('after-'));
    expect(got).toHaveLength(20);
  });
});
