/** UdpLocatorCache: one locator per run of packets from one source (host/locator.ts). */
import { describe, expect, it } from 'vitest';
import { UdpLocatorCache, udpLocator } from '../../src/host/locator.js';

describe('UdpLocatorCache', () => {
  it('returns the same locator for the same source, and a correct new one when the source changes', () => {
    const c = new UdpLocatorCache();
    const a = { address: '127.0.0.1', port: 1000, family: 4 as const };
    const first = c.get(a);
    expect(first).toEqual(udpLocator(a));
    expect(c.get({ ...a })).toBe(first);
    for (const other of [{ ...a, port: 1001 }, { ...a, address: '127.0.0.2' }, { address: '::1', port: 1000, family: 6 as const }]) {
      const l = c.get(other);
      expect(l).toEqual(udpLocator(other));
      expect(l.key).not.toBe(first.key);
    }
    expect(c.get(a)).toEqual(first);
  });
});
