/**
 * Issue 8 items 5 and 6: no call sequence on the host API produces an unhandled rejection or an
 * uncaught exception, and every option is checked at creation with a typed error naming it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost, type HostOptions } from '../../src/host/host.js';
import { createHost } from '../../src/socket/host.js';
import { AF_INET, HIPL_LIB_LOG_NONE, SOCK_DGRAM, SOCK_STREAM, hiplAddPeerInfo, hiplBind, hiplConnect, hiplGetDefaultHit, hiplLibInitAll, hiplLibShutdownAll, hiplSendto, hiplSocket } from '../../src/api/index.js';

const LO = '127.0.0.1';
const hosts: { shutdown(ms?: number): Promise<void> }[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(100)));
  // Give any stray rejection the turns it needs to surface.
  await new Promise((r) => setTimeout(r, 20));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

async function host(opts: HostOptions = {}): Promise<HipHost> {
  const h = await HipHost.create({ udp: { address: LO }, ...opts });
  hosts.push(h);
  return h;
}

const RSA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });

describe('engine calls that throw at once leave nothing behind (issue 8 item 5a)', () => {
  it('a datagram to our own HIT rejects with ERR_HIP_SELF, and close() later rejects nothing', async () => {
    const a = await host();
    a.peers.add(a.hit(), { address: LO, port: a.udpAddress!.port });
    await expect(a.sendDatagram(a.hit(), 1, 2, new Uint8Array(3))).rejects.toMatchObject({ code: 'ERR_HIP_SELF' });
    await expect(a.connect(a.hit())).rejects.toMatchObject({ code: 'ERR_HIP_SELF' });
  });

  it('a HIPv1 HIT with a P-256 identity rejects with ERR_HIP_UNSUPPORTED_VERSION', async () => {
    const a = await host();
    const v1 = RSA.hitString(1);
    a.peers.add(v1, { address: LO, port: 9 });
    await expect(a.connect(v1)).rejects.toMatchObject({ code: 'ERR_HIP_UNSUPPORTED_VERSION' });
    await expect(a.sendDatagram(v1, 1, 2, new Uint8Array(3))).rejects.toMatchObject({ code: 'ERR_HIP_UNSUPPORTED_VERSION' });
    // the failed send left no queued bytes behind: a full limit is still available
    expect(a.isEstablished(v1)).toBe(false);
  });

  it('the libhipl API answers a connect or send to our own HIT with an errno and nothing throws later', async () => {
    expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE)).toBe(0);
    hosts.push({ shutdown: async () => void (await hiplLibShutdownAll()) });
    const me = hiplGetDefaultHit()!;
    expect(await hiplAddPeerInfo(me, LO)).toBe(0);
    const tcp = await hiplSocket(AF_INET, SOCK_STREAM, 0);
    expect(await hiplConnect(tcp, me, 7)).toBeLessThan(0);
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    expect(await hiplSendto(udp, new Uint8Array(4), 4, 0, me, 7)).toBeLessThan(0);
  });

  it('the socket-level host refuses connect() without options with a typed error', async () => {
    const h = await createHost({ udp: { address: LO } });
    hosts.push({ shutdown: () => h.close() });
    expect(() => (h.connect as (o?: unknown) => unknown)()).toThrow(expect.objectContaining({ code: 'ERR_HIP_INVALID_ARGUMENT' }));
  });
});

describe('host options are checked at creation (issue 8 items 5b and 6)', () => {
  const bad: [string, HostOptions][] = [
    ['replayWindow', { replayWindow: 0 }],
    ['replayWindow', { replayWindow: -5 }],
    ['replayWindow', { replayWindow: Number.NaN }],
    ['replayWindow', { replayWindow: 1e6 }],
    ['queueLimitBytes', { queueLimitBytes: -1 }],
    ['queueLimitBytes', { queueLimitBytes: Number.NaN }],
    ['identity', { identity: {} as HostIdentity }],
    ['provider', { provider: 'openssl' as 'node' }],
    ['rekeyThreshold', { rekeyThreshold: 0n }],
    ['udp.port', { udp: { port: 70000 } }],
    ['tcp.maxUnverified', { tcp: { maxUnverified: 0 } }],
    ['puzzle.difficulty', { engine: { puzzle: { difficulty: 300 } } }],
    ['puzzle.difficulty', { engine: { puzzle: { difficulty: -1 } } }],
    ['dhGroups', { engine: { dhGroups: [] } }],
    ['dhGroups', { engine: { dhGroups: [99] } }],
    ['espSuites', { engine: { espSuites: [5] } }],
    ['retransmit.initialMs', { engine: { retransmit: { initialMs: Number.NaN } } }],
    ['retransmit.i1Retries', { engine: { retransmit: { i1Retries: -1 } } }],
    ['idleTimeoutMs', { engine: { idleTimeoutMs: -1 } }],
    ['version', { engine: { version: 3 as 2 } }],
  ];
  for (const [option, opts] of bad) {
    it(`refuses ${option} = ${String(JSON.stringify(opts, (_k, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : v)))}`, async () => {
      await expect(HipHost.create({ udp: false, ...opts })).rejects.toMatchObject({
        code: 'ERR_HIP_BAD_OPTION',
        details: { option },
        message: expect.stringContaining(option),
      });
    });
  }

  it('refuses a bad stream option with ERR_STREAM_BAD_CONFIG naming it', async () => {
    await expect(HipHost.create({ udp: false, stream: { mss: 0 } })).rejects.toMatchObject({ code: 'ERR_STREAM_BAD_CONFIG', details: { field: 'mss' } });
  });

  it('accepts the documented defaults and edge values', async () => {
    await host({ replayWindow: 1, queueLimitBytes: 0, rekeyThreshold: 1n, engine: { puzzle: { difficulty: 0 }, dhGroups: [7] } });
    await host({ replayWindow: 65536, engine: { idleTimeoutMs: 0 } });
  });
});
