/**
 * Hosts in separate processes over real loopback sockets (issue 4 section 5): HIPv2 over UDP and
 * TCP, IPv4 and IPv6; HIPv1 with libhipl clear-text data over UDP and TCP; a lossy UDP relay;
 * CLOSE from either end lets both processes exit by themselves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startUdpRelay, type UdpRelay } from '../helpers/udp-relay.js';
import { killAll, startPeer } from './processes.js';

const relays: UdpRelay[] = [];
afterEach(async () => {
  killAll();
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

type Ready = { ready: { hit: string; address: string; port: number } };

async function pair(responder: Record<string, unknown>, initiator: Record<string, unknown>, via?: (r: Ready['ready']) => Promise<{ address: string; port: number }>) {
  const r = await startPeer({ role: 'responder', ...responder });
  const ready = (await r.waitFor('ready')) as Ready;
  const target = via ? await via(ready.ready) : ready.ready;
  const i = await startPeer({ role: 'initiator', ...initiator, peer: { hit: ready.ready.hit, address: target.address, port: target.port } });
  return { r, i };
}

describe('two processes', () => {
  for (const carrier of ['udp', 'tcp'] as const) {
    for (const family of [4, 6] as const) {
      it(`HIPv2 over ${carrier.toUpperCase()}/IPv${family}: BEX, data both ways, CLOSE, both exit`, async () => {
        const base = { carrier, family };
        const { r, i } =
          carrier === 'udp'
            ? await pair(base, { ...base, messages: ['one', 'two', 'three'] })
            : await pair(base, { ...base, streamBytes: 100_000 });
        const est = (await i.waitFor('established')).established as { version: number; suite: number };
        expect(est.version).toBe(2);
        expect(est.suite).toBe(13);
        if (carrier === 'udp') {
          expect((await i.waitFor('echoes')).echoes).toEqual(['one', 'two', 'three']);
        } else {
          expect(await i.waitFor('streamEcho')).toMatchObject({ streamEcho: 100_000, intact: true });
        }
        expect((await r.waitFor('closed')).closed).toMatchObject({ by: 'peer' });
        expect(await r.exited).toBe(0);
        expect(await i.exited).toBe(0);
      });
    }
  }

  for (const carrier of ['udp', 'tcp'] as const) {
    it(`HIPv1 with libhipl clear-text data over ${carrier.toUpperCase()}`, async () => {
      const base = { carrier, version: 1, clearText: true, keyAlgorithm: 'rsa' };
      const { r, i } =
        carrier === 'udp'
          ? await pair(base, { ...base, messages: ['Hello Sailor!'] })
          : await pair(base, { ...base, streamBytes: 5000 });
      const est = (await i.waitFor('established')).established as { version: number; suite: number };
      expect(est.version).toBe(1);
      if (carrier === 'udp') expect((await i.waitFor('echoes')).echoes).toEqual(['Hello Sailor!']);
      else expect(await i.waitFor('streamEcho')).toMatchObject({ intact: true });
      await r.waitFor('closed');
      expect(await r.exited).toBe(0);
      expect(await i.exited).toBe(0);
    });
  }

  it('through a lossy UDP relay the BEX completes and stream data arrives intact', async () => {
    const { i, r } = await pair({ carrier: 'udp' }, { carrier: 'udp', streamBytes: 300_000 }, async (ready) => {
      const relay = await startUdpRelay({
        target: { address: ready.address, port: ready.port, family: 4 },
        loss: 0.1,
        seed: 'lossy',
        // lose the first I1 and the first R2 for sure, whatever the random draws do
        dropFirst: (() => {
          const seen = new Set<number>();
          return (b: Uint8Array) => {
            const type = b.length > 6 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 ? b[6]! & 0x7f : -1;
            if ((type === 1 || type === 4) && !seen.has(type)) {
              seen.add(type);
              return true;
            }
            return false;
          };
        })(),
      });
      relays.push(relay);
      return relay.address;
    });
    expect(await i.waitFor('streamEcho', 60_000)).toMatchObject({ streamEcho: 300_000, intact: true });
    const stats = relays[0]!.stats;
    expect(stats.toTarget.droppedByHook + stats.toClient.droppedByHook).toBe(2);
    expect(stats.toTarget.droppedByLoss + stats.toClient.droppedByLoss).toBeGreaterThan(0);
    await r.waitFor('closed');
    expect(await r.exited).toBe(0);
    expect(await i.exited).toBe(0);
  }, 90_000);

  it('CLOSE from the responder: both processes exit by themselves', async () => {
    const { r, i } = await pair({ carrier: 'udp' }, { carrier: 'udp', messages: ['x'], closer: 'responder' });
    await i.waitFor('echoes');
    r.child.stdin!.write('close\n');
    expect((await i.waitFor('closed')).closed).toMatchObject({ by: 'peer' });
    expect(await i.exited).toBe(0);
    expect(await r.exited).toBe(0);
  });
});
