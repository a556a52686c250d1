/**
 * Issue 9, section 2: over the TCP carrier, reconnecting right after disconnect() must not lose
 * the new association when the old connection closes (both have the same locator key).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHost, type HiplHost } from '../../src/socket/index.js';

const LO = '127.0.0.1';
const hosts: HiplHost[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close(100)));
});

describe('TCP carrier', () => {
  it('a reconnect right after disconnect() survives the old connection closing', async () => {
    const b = await createHost({ udp: false, tcp: { address: LO } });
    const a = await createHost({ udp: false });
    hosts.push(a, b);
    a.peers.add(b.hit, { carrier: 'tcp', address: LO, port: b.address().tcp!.port });
    await a.core.connect(b.hit);
    const lost: string[] = [];
    a.on('disconnect', (e) => lost.push(e.by));
    await a.disconnect(b.hit);
    await a.core.connect(b.hit); // at once: the old connection is still closing
    // Let the old connection finish closing, then the new association must still carry data.
    await new Promise((r) => setTimeout(r, 300));
    expect(a.isEstablished(b.hit)).toBe(true);
    expect(lost).toEqual(['local']);
    const sink = b.createSocket('udp');
    await sink.bind(9);
    const got = new Promise<string>((resolve) => sink.once('message', (d) => resolve(d.toString())));
    await a.createSocket('udp').send('still here', b.hit, 9);
    expect(await got).toBe('still here');
  });
});
