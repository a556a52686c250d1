/**
 * Registration renewal and cancellation by UPDATE over real UDP sockets on loopback (RFC 8003
 * §3.3-3.4): a responder registered with a rendezvous server renews on its one association (no
 * new base exchange) and stays reachable past several lifetimes; `unregisterFrom()` removes it at
 * the server; a server that restarts is re-registered with, and a renewal that cannot reach it is
 * a `registration` event with status 'failed', not an 'error'.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost, type HostOptions } from '../../src/host/host.js';
import type { HostRegistrationEvent } from '../../src/host/registrations.js';
import { createRelay, type RelayServer } from '../../src/relay/index.js';

const LO = '127.0.0.1';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

const FAST: HostOptions['engine'] = { retransmit: { initialMs: 100, maxMs: 400, i1Retries: 3, i2Retries: 3, updateRetries: 3 } };

async function host(engine: HostOptions['engine'] = {}): Promise<HipHost> {
  const h = await HipHost.create({ udp: { address: LO, port: 0 }, tcp: false, engine: { ...FAST, ...engine } });
  cleanup.push(() => h.shutdown(0));
  return h;
}

async function relay(identity: HostIdentity, whitelist: string[], port = 0, lifetimes = { minLifetime: 1, maxLifetime: 2 }): Promise<RelayServer> {
  const s = await createRelay({ identity, whitelist, address: LO, port, ...lifetimes });
  cleanup.push(() => s.close());
  return s;
}

/** Collect a host's registration events; `until` waits for one that matches. */
function watch(h: HipHost) {
  const events: HostRegistrationEvent[] = [];
  const waiters: { test: (e: HostRegistrationEvent) => boolean; resolve: (e: HostRegistrationEvent) => void }[] = [];
  h.on('registration', (e) => {
    events.push(e);
    for (const w of waiters.splice(0)) (w.test(e) ? w.resolve(e) : waiters.push(w));
  });
  const until = (test: (e: HostRegistrationEvent) => boolean, ms = 20_000) =>
    new Promise<HostRegistrationEvent>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no such registration event in ${ms} ms: ${JSON.stringify(events)}`)), ms);
      waiters.push({ test, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  return { events, until };
}

describe('registration renewal and cancellation by UPDATE (real sockets)', () => {
  it('renewals go by UPDATE on the one association, and the responder stays reachable past its lifetime', async () => {
    const r = await host();
    const sId = HostIdentity.generate();
    const s = await relay(sId, [r.hit()]);
    let established = 0;
    r.on('established', (e) => void (e.peerHit === s.hit && established++));
    const w = watch(r);
    const reg = await r.registerWith({ hit: s.hit, address: LO, port: s.address.port, lifetime: 1 });
    expect(reg.lifetime).toBe(1);
    // Renewed at 80 % of 1 s: wait for three renewals.
    await w.until(() => w.events.filter((e) => e.status === 'granted').length >= 4);
    expect(established).toBe(1);
    expect(s.stats().granted).toBeGreaterThanOrEqual(4);
    const i = await host();
    i.peers.add(r.hit(), { address: LO, port: s.address.port });
    await i.connect(r.hit());
    expect(s.stats().forwarded).toBe(1);
  });

  it('unregisterFrom() cancels at the server (lifetime 0): it forwards no more I1s, and renewal stops', async () => {
    const r = await host();
    const s = await relay(HostIdentity.generate(), [r.hit()]);
    const w = watch(r);
    await r.registerWith({ hit: s.hit, address: LO, port: s.address.port, lifetime: 2 });
    expect(s.clients()).toHaveLength(1);
    const answer = await r.unregisterFrom(s.hit);
    expect(answer).toMatchObject({ status: 'cancelled', granted: [1], lifetime: 0 });
    expect(s.clients()).toHaveLength(0);
    expect(s.stats().cancelled).toBe(1);
    expect(r.isEstablished(s.hit)).toBe(true);
    const i = await host();
    i.peers.add(r.hit(), { address: LO, port: s.address.port });
    await expect(i.connect(r.hit())).rejects.toMatchObject({ code: 'ERR_HIP_BEX_FAILED' });
    expect(s.stats().forwarded).toBe(0);
    expect(s.stats().notRegistered).toBeGreaterThan(0);
    // No renewal after the cancellation (it would come within 1.6 s).
    await new Promise((res) => setTimeout(res, 2500));
    expect(w.events.filter((e) => e.status === 'granted')).toHaveLength(1);
    expect(s.clients()).toHaveLength(0);
  });

  it('the server restarts: the failed renewal is a registration event (no error), then the client registers again and is reachable', async () => {
    const r = await host();
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    const sId = HostIdentity.generate();
    const s = await relay(sId, [r.hit()]);
    const port = s.address.port;
    const w = watch(r);
    await r.registerWith({ hit: s.hit, address: LO, port, lifetime: 2 });
    await s.close();
    const failed = await w.until((e) => e.status === 'failed');
    expect(failed).toMatchObject({ role: 'requester', peerHit: s.hit, granted: [] });
    expect(failed.error).toBeTruthy();
    const s2 = await relay(sId, [r.hit()], port);
    await w.until((e) => e.status === 'granted');
    expect(s2.clients().map((c) => c.hit)).toEqual([r.hit()]);
    const i = await host();
    i.peers.add(r.hit(), { address: LO, port });
    await i.connect(r.hit());
    expect(s2.stats().forwarded).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a server that crashes long before the renewal is due: its dead path (liveness probes) makes the client register again at once', async () => {
    // Liveness probes every 300 ms (NAT mode uses 30 s); the registration lasts 10 minutes.
    const r = await host({ livenessMs: 300 });
    const sId = HostIdentity.generate();
    const long = { minLifetime: 600, maxLifetime: 600 };
    const s = await relay(sId, [r.hit()], 0, long);
    const port = s.address.port;
    const w = watch(r);
    const reg = await r.registerWith({ hit: s.hit, address: LO, port, lifetime: 600 });
    expect(reg.lifetime).toBeGreaterThanOrEqual(600);
    // A crash: the server's process ends without a CLOSE to anyone.
    await s.host.shutdown(0);
    const s2 = await relay(sId, [r.hit()], port, long);
    await w.until((e) => e.status === 'granted' && w.events.length > 1);
    expect(s2.clients().map((c) => c.hit)).toEqual([r.hit()]);
    const i = await host();
    i.peers.add(r.hit(), { address: LO, port });
    await i.connect(r.hit());
    expect(s2.stats().forwarded).toBe(1);
  });
});
