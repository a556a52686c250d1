/**
 * A caller's AbortSignal is only borrowed: once a wait on it ends (the connect succeeded, the
 * stepped packet arrived), hipl's listener is gone from it. One signal commonly serves many
 * operations (a server's lifetime, a stepping loop), and a listener left per operation leaks
 * and ends in Node's MaxListenersExceededWarning.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';

const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
});

async function pair(): Promise<[HipHost, HipHost]> {
  const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
  const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
  hosts.push(a, b);
  a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
  return [a, b];
}

describe('abort listeners', () => {
  it('connects that share one signal leave no listener on it once established', async () => {
    const [a, b] = await pair();
    const ac = new AbortController();
    // All wait for the same BEX at once (each a listener while it waits: fewer than Node's 10).
    await Promise.all(Array.from({ length: 8 }, () => a.connect(b.hit(), { signal: ac.signal })));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('stepping the BEX with one signal leaves no listener per step', async () => {
    const [a, b] = await pair();
    b.setBexStepping(true);
    const ac = new AbortController();
    const connected = a.connect(b.hit());
    // I1 and I2 reach b one at a time: each step waits on the same signal.
    for (let i = 0; i < 2; i++) await b.stepBex(ac.signal);
    await connected;
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a step with an aborted signal rejects at once', async () => {
    const [, b] = await pair();
    b.setBexStepping(true);
    await expect(b.stepBex(AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_HIP_ABORTED' });
  });
});
