/**
 * The public surface: the root module holds what programs use, and the lower layers stay
 * behind their subpaths (issue 9: 218 root exports made every wire and engine internal API).
 */
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import * as engine from '../../src/core/index.js';
import * as wire from '../../src/wire/index.js';
import * as esp from '../../src/esp/index.js';
import * as transport from '../../src/transport/index.js';
import * as host from '../../src/host/index.js';

describe('root exports', () => {
  it('has the user API', () => {
    for (const name of ['createHost', 'HiplHost', 'HiplSocket', 'HiplServer', 'HiplStream', 'HostIdentity', 'loadOrCreateIdentity', 'HipError', 'hiplSocket', 'hiplSendto', 'EWAITBEX', 'formatHit', 'PeerTable']) {
      expect(root, name).toHaveProperty(name);
    }
  });

  it('keeps the wire codec, engine, ESP, carriers and the host driver behind subpaths', () => {
    const lower: [string, object][] = [['engine', engine], ['wire', wire], ['esp', esp], ['transport', transport], ['host', host]];
    const leaked = lower.flatMap(([sub, mod]) =>
      Object.keys(mod)
        .filter((k) => k in root && (root as Record<string, unknown>)[k] !== undefined)
        // Shared with the root on purpose: errors, the peer table, HIT helpers.
        .filter((k) => !['HipTransportError', 'TransportErrorCode', 'PeerTable', 'canonicalHit'].includes(k))
        .map((k) => `${sub}:${k}`),
    );
    expect(leaked).toEqual([]);
    for (const name of ['HipEngine', 'parsePacket', 'OutboundSa', 'UdpCarrier', 'HipHost', 'HostStream']) expect(root, name).not.toHaveProperty(name);
  });

  it('has one name per concept: HiplStream is the stream class, HostStream is not exported', () => {
    expect(Object.keys(host)).not.toContain('HostStream');
    expect(typeof root.HiplStream).toBe('function');
  });
});
