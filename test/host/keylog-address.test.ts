/**
 * Issue 13: with the host bound to 0.0.0.0 the keylog must name the local address its ESP
 * packets really leave from, or Wireshark cannot match the SAs to a capture of the real
 * interface. Two hipl processes in network namespaces of their own (198.51.100.10 and .20),
 * each bound to 0.0.0.0 and writing a keylog.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NetLab, PUBLIC_NET, skipWithoutNetns } from '../helpers/netns.js';
import { until } from '../helpers/transport-sockets.js';

const fixture = fileURLToPath(new URL('../nat/fixtures/nat-peer.ts', import.meta.url));
let lab: NetLab | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const lines = (path: string): string[] => {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('"'));
  } catch {
    return [];
  }
};

describe.skipIf(skipWithoutNetns())('keylog on a host bound to 0.0.0.0', () => {
  it('names the address the packets use, not 127.0.0.1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hipl-keylog-'));
    dirs.push(dir);
    lab = await NetLab.create();
    const rNs = await lab.publicHost('r', 10);
    const iNs = await lab.publicHost('i', 20);
    const rKeys = join(dir, 'r.keys');
    const iKeys = join(dir, 'i.keys');
    const r = await lab.startPeer(rNs, { udpPort: 10500, host: { keylog: rKeys } }, fixture);
    const { hit } = (await r.waitFor('ready')).ready as { hit: string };
    const i = await lab.startPeer(iNs, { peer: { hit, address: `${PUBLIC_NET}.10`, port: 10500 }, host: { keylog: iKeys } }, fixture);
    i.send({ op: 'connect' });
    await i.waitFor('established');
    await r.waitFor('established');
    await until(() => lines(iKeys).length === 2 && lines(rKeys).length === 2, 10_000, 'both keylogs written');
    const [iOut, iIn] = lines(iKeys);
    expect(iOut).toMatch(new RegExp(`^"IPv4","${PUBLIC_NET}\\.20","${PUBLIC_NET}\\.10",`));
    expect(iIn).toMatch(new RegExp(`^"IPv4","${PUBLIC_NET}\\.10","${PUBLIC_NET}\\.20",`));
    const [rOut, rIn] = lines(rKeys);
    expect(rOut).toMatch(new RegExp(`^"IPv4","${PUBLIC_NET}\\.10","${PUBLIC_NET}\\.20",`));
    expect(rIn).toMatch(new RegExp(`^"IPv4","${PUBLIC_NET}\\.20","${PUBLIC_NET}\\.10",`));
    // the SPIs pair up across the two logs
    expect(iOut!.split(',')[3]).toBe(rIn!.split(',')[3]);
  });
});
