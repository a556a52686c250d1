/** Connections made from one configuration object share its resolved form (memory per idle stream). */
import { describe, expect, it } from 'vitest';
import { StreamConnection } from '../../src/host/stream-protocol.js';

const conn = (config?: object): StreamConnection => new StreamConnection({ localPort: 1, remotePort: 2, initialSeq: 0, role: 'client', ...(config ? { config } : {}) });

describe('stream configuration', () => {
  it('is resolved once per configuration object, and per object: different options stay different', () => {
    const host = Object.freeze({ mss: 1000 });
    const a = conn(host);
    const b = conn(host);
    expect(b.config).toBe(a.config);
    expect(a.config.mss).toBe(1000);
    expect(conn().config).toBe(conn().config);
    expect(conn().config.mss).not.toBe(1000);
    expect(conn({ mss: 900 }).config.mss).toBe(900);
    expect(Object.isFrozen(a.config)).toBe(true);
    // A bad configuration is refused every time, never cached.
    const bad = { mss: 0 };
    expect(() => conn(bad)).toThrow(expect.objectContaining({ code: 'ERR_STREAM_BAD_CONFIG' }));
    expect(() => conn(bad)).toThrow(expect.objectContaining({ code: 'ERR_STREAM_BAD_CONFIG' }));
  });
});
