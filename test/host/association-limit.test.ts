/**
 * Issue 8, bounded resources, over real loopback sockets: a responder whose association table
 * is full refuses the I2 of a new peer (counted as `engine:association-limit`) without
 * disturbing the association it has, and its own connect() to a new peer fails with a typed error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';

const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
});

async function host(opts: Parameters<typeof HipHost.create>[0] = {}): Promise<HipHost> {
  const h = await HipHost.create({ udp: { address: '127.0.0.1' }, ...opts });
  hosts.push(h);
  return h;
}

describe('association limit over UDP', () => {
  it('a full responder refuses a newcomer and keeps serving the peer it has', async () => {
    const b = await host({ engine: { maxAssociations: 1 } });
    const a1 = await host();
    const a2 = await host();
    const at = { carrier: 'udp' as const, address: '127.0.0.1', port: b.udpAddress!.port };
    b.bindDatagramPort(7, (data, info) => void b.sendDatagram(info.hit, 7, info.port, data));
    const echoes: string[] = [];
    a1.bindDatagramPort(5000, (d) => echoes.push(Buffer.from(d).toString()));

    await a1.connect(b.hit(), { via: at });
    await expect(a2.connect(b.hit(), { via: at, timeoutMs: 1500 })).rejects.toMatchObject({ code: 'ERR_HIP_CONNECT_TIMEOUT' });
    expect(b.dropped['engine:association-limit']).toBeGreaterThan(0);
    expect(b.engine.associationCount).toBe(1);
    expect(b.engine.association(a2.engine.localHit())).toBeUndefined();

    // The established peer was not evicted: its traffic still flows.
    await a1.sendDatagram(b.hit(), 5000, 7, new TextEncoder().encode('still here'));
    for (let i = 0; i < 400 && echoes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(echoes).toEqual(['still here']);

    // The responder's own connect() to a new peer is refused at once, with a typed error.
    await expect(b.connect(a2.hit(), { via: { carrier: 'udp', address: '127.0.0.1', port: a2.udpAddress!.port } })).rejects.toMatchObject({
      code: 'ERR_HIP_ASSOCIATION_LIMIT',
    });
  }, 15_000);
});
