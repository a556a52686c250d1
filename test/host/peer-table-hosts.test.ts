/**
 * PeerTable's hosts files: `peers.loadHostsFile(path)` takes a path, as `host.loadHostsFile`
 * does, and the names it reads stand for their HITs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { PeerTable } from '../../src/host/peer-table.js';

const dir = mkdtempSync(join(tmpdir(), 'hipl-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PeerTable hosts files', () => {
  const hit = HostIdentity.generate().hitString();
  const text = `# HIPL hosts\n${hit} bob   # his HIT\n127.0.0.1 bob\n::1 bob\n10.0.0.9 nobody\n`;

  it('loadHostsFile reads a path; loadHostsFileSync too; addHostsText takes the text', async () => {
    const file = join(dir, 'hosts');
    writeFileSync(file, text);
    for (const load of [
      (t: PeerTable) => t.loadHostsFile(file, { port: 10500 }),
      async (t: PeerTable) => t.loadHostsFileSync(file, { port: 10500 }),
      async (t: PeerTable) => t.addHostsText(text, { port: 10500 }),
    ]) {
      const table = new PeerTable();
      const entries = await load(table);
      expect(entries.map((e) => e.hit)).toEqual([hit]);
      expect(table.get('bob')?.locators).toEqual([
        { carrier: 'udp', address: '127.0.0.1', port: 10500 },
        { carrier: 'udp', address: '::1', port: 10500 },
      ]);
      expect(table.get('nobody')).toBeUndefined();
    }
  });

  it('a missing file rejects with the fs error', async () => {
    await expect(new PeerTable().loadHostsFile(join(dir, 'missing'), { port: 1 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
