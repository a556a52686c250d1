/**
 * Issue 8 item 4 through the host: strangers' TCP connections (`FF FF` and nothing more) are
 * capped and the oldest give way, while a real peer still completes its BEX over TCP and is
 * no longer counted as a stranger.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { Closer, nextEvent, until } from '../helpers/transport-sockets.js';

const LO = '127.0.0.1';
const closer = new Closer();
afterEach(() => closer.closeAll());

async function stranger(port: number): Promise<Socket & { gone: boolean }> {
  const s = netConnect({ host: LO, port }) as Socket & { gone: boolean };
  s.gone = false;
  s.on('error', () => undefined);
  s.on('close', () => (s.gone = true));
  closer.add(s, (x) => x.destroy());
  await nextEvent(s, 'connect');
  s.write(Buffer.from([0xff, 0xff]));
  return s;
}

describe('HipHost TCP listener under a connection flood (issue 8 item 4)', () => {
  it('caps strangers, and a real peer still gets through and is verified', async () => {
    const b = closer.add(await HipHost.create({ udp: false, tcp: { address: LO, maxUnverified: 4, verifyTimeoutMs: 30_000, idleTimeoutMs: 30_000 } }), (h) => h.shutdown(200));
    const a = closer.add(await HipHost.create({ udp: false }), (h) => h.shutdown(200));
    const port = b.tcpAddress!.port;
    const flood: (Socket & { gone: boolean })[] = [];
    for (let i = 0; i < 10; i++) flood.push(await stranger(port));
    await until(() => b.tcpListenerStats!.accepted === 10 && flood.filter((s) => s.gone).length === 6, 5000, 'flood capped');
    expect(b.tcpListenerStats).toMatchObject({ unverified: 4, evicted: 6 });

    a.peers.add(b.hit(), { carrier: 'tcp', address: LO, port });
    const got = new Promise<string>((r) => b.bindDatagramPort(7, (d) => r(Buffer.from(d).toString())));
    await a.sendDatagram(b.hit(), 1, 7, new TextEncoder().encode('through the flood'));
    expect(await got).toBe('through the flood');
    // a's connection took a slot (evicting one more stranger), then left the stranger count.
    expect(b.tcpListenerStats).toMatchObject({ accepted: 11, evicted: 7, unverified: 3 });

    // More strangers evict only strangers: the association keeps working.
    for (let i = 0; i < 4; i++) await stranger(port);
    await until(() => b.tcpListenerStats!.accepted === 15 && b.tcpListenerStats!.unverified === 4, 5000, 'second flood');
    const again = new Promise<string>((r) => b.bindDatagramPort(8, (d) => r(Buffer.from(d).toString())));
    await a.sendDatagram(b.hit(), 1, 8, new TextEncoder().encode('still here'));
    expect(await again).toBe('still here');
  });
});
