/**
 * Issue 9: a connect that cannot succeed fails promptly and says why. A BEX that gets no answer
 * fails after the host's connect timeout (not the engine's ~47 s of retransmissions) with an
 * error naming the HIT and the locator tried; a send the system refuses fails the BEX at once;
 * and the pcap shows only packets that were actually sent.
 *
 * The refused destination is loopback seen through the wrong family: an IPv6 socket bound to ::1
 * has no route to the IPv4-mapped ::ffff:127.0.0.1, so the kernel refuses the send (ENETUNREACH)
 * before anything leaves the host; only loopback is ever a destination.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';
import { readCapture } from '../../src/wire/index.js';

const LO = '127.0.0.1';
const REFUSED = '::ffff:127.0.0.1';
const dir = mkdtempSync(join(tmpdir(), 'hipl-failures-'));
const cleanup: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function silentPeer(): Promise<number> {
  const s: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, LO, resolve));
  cleanup.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return s.address().port;
}

describe('connect timeout', () => {
  it('a silent peer fails the connect with ERR_HIP_CONNECT_TIMEOUT naming the HIT and the locator tried', async () => {
    const a = await HipHost.create({ udp: { address: LO }, connectTimeoutMs: 300 });
    cleanup.push(() => a.shutdown(50));
    const port = await silentPeer();
    const hit = HostIdentity.generate().hitString();
    a.peers.add(hit, { address: LO, port });
    const failed = new Promise<{ reason: string }>((resolve) => a.once('failed', resolve));
    const err = (await a.connect(hit).then(() => ({ code: 'connected', message: '' }), (e: unknown) => e)) as { code: string; message: string };
    expect(err).toMatchObject({ code: 'ERR_HIP_CONNECT_TIMEOUT' });
    expect(err.message).toContain(hit);
    expect(err.message).toContain(`udp ${LO}:${port}`);
    expect((await failed).reason).toBe('timeout');
    // The half-open association is gone: a new connect starts afresh.
    expect(a.engine.associationCount).toBe(0);
    // Data queued for it was dropped with it, and a per-call timeout overrides the host's.
    await expect(a.sendDatagram(hit, 1, 1, new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_HIP_CONNECT_TIMEOUT' });
    await expect(a.connect(hit, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_HIP_CONNECT_TIMEOUT', details: { timeoutMs: 50 } });
  });
});

describe('a send the system refuses', () => {
  it('fails the BEX at once (not after retransmissions), and the pcap records nothing that was not sent', async () => {
    const pcap = join(dir, 'refused.pcap');
    // A connect timeout longer than this test may run: only the refusal can end the connect.
    const a = await HipHost.create({ udp: { address: '::1' }, pcap, connectTimeoutMs: 60_000 });
    cleanup.push(() => a.shutdown(50));
    const errors: unknown[] = [];
    a.on('error', (e) => errors.push(e));
    const hit = HostIdentity.generate().hitString();
    a.peers.add(hit, { address: REFUSED, port: 9 });
    const events: string[] = [];
    a.on('failed', (e) => events.push(`failed:${e.reason}`));
    a.on('closed', (e) => events.push(`closed:${e.by}`));
    // ENETUNREACH goes the same one way as any other refusal: the error says which call of the
    // system refused, and to which locator.
    const err = await a.connect(hit).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> },
    );
    expect(err).toMatchObject({ code: 'ERR_HIP_BEX_FAILED', details: { peerHit: hit, reason: 'unreachable', osCode: 'ENETUNREACH', locators: [`udp ${REFUSED}:9`] } });
    expect(err!.message).toContain('ENETUNREACH');
    expect(events).toEqual(['failed:unreachable']);
    expect(errors).toEqual([]); // one peer's refusal is not a failure of the host
    await a.shutdown(0);
    const frames = readCapture(new Uint8Array(readFileSync(pcap)));
    expect(frames).toHaveLength(0);
  }, 15_000);
});
