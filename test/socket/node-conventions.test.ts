/**
 * The Node API behaves like node:net and node:dgram (issue 9, section 3): an unheard 'error'
 * throws, send() in dgram's shape never leaves an unhandled rejection, closing the host closes
 * its sockets, servers and streams, ref/unref, stream and rinfo fields, asyncDispose, and the
 * per-association event is 'disconnect' while 'close' is the host's own.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HipError } from '../../src/errors.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { createHost, type CreateHostOptions, type HiplHost, type HiplStream } from '../../src/socket/index.js';

const LO = '127.0.0.1';
const hosts: HiplHost[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close(100)));
});

async function host(opts: CreateHostOptions = {}): Promise<HiplHost> {
  const h = await createHost({ udp: { address: LO }, ...opts });
  hosts.push(h);
  return h;
}

async function pair(): Promise<[HiplHost, HiplHost]> {
  const a = await host();
  const b = await host();
  a.peers.add(b.hit, { address: LO, port: b.address().udp!.port });
  return [a, b];
}

function onceEvent<T = void>(emitter: object, ev: string): Promise<T> {
  const e = emitter as { once(ev: string, cb: (v: T) => void): unknown };
  return new Promise((resolve) => e.once(ev, resolve));
}

describe("'error' nobody listens to", () => {
  it('is thrown by the host, a socket and a server; with a listener it is delivered', async () => {
    const h = await host();
    const err = new HipError('ERR_TRANSPORT_SOCKET', 'boom');
    const emitters = [h, h.createSocket('udp'), h.createServer()] as unknown as { emit(ev: string, e: unknown): boolean; on(ev: string, f: (e: unknown) => void): unknown }[];
    for (const e of emitters) {
      expect(() => e.emit('error', err)).toThrow(err);
      const seen: unknown[] = [];
      e.on('error', (x) => seen.push(x));
      expect(e.emit('error', err)).toBe(true);
      expect(seen).toEqual([err]);
    }
  });
});

describe('HiplSocket.send in the shape of dgram', () => {
  it('a failing send that nobody awaits leaves no unhandled rejection; the callback and the event get the error', async () => {
    const a = await host({ engine: { retransmit: { initialMs: 10, maxMs: 10, i1Retries: 1 } } });
    const hit = HostIdentity.generate().hitString();
    a.peers.add(hit, { address: LO, port: (await host()).address().udp!.port });
    const stray: unknown[] = [];
    const onStray = (e: unknown) => stray.push(e);
    process.on('unhandledRejection', onStray);
    try {
      const sock = a.createSocket('udp');
      // Fire and forget, no listener: nothing may escape.
      void sock.send('lost', hit, 7);
      // Callback shape.
      const viaCallback = new Promise<HipError | null>((resolve) => void sock.send('x', hit, 7, resolve));
      expect(await viaCallback).toMatchObject({ code: 'ERR_HIP_BEX_FAILED' });
      // Event shape.
      const sock2 = a.createSocket('udp');
      const viaEvent = onceEvent<HipError>(sock2, 'error');
      void sock2.send('y', hit, 7);
      expect(await viaEvent).toMatchObject({ code: 'ERR_HIP_BEX_FAILED' });
      // Awaiting still rejects.
      await expect(sock.send('z', hit, 7)).rejects.toMatchObject({ code: 'ERR_HIP_BEX_FAILED' });
      sock.close();
      await expect(sock.send('closed', hit, 7)).rejects.toMatchObject({ code: 'ERR_HIP_SOCKET_CLOSED' });
      await new Promise((r) => setTimeout(r, 50));
      expect(stray).toEqual([]);
    } finally {
      process.off('unhandledRejection', onStray);
    }
  });
});

describe('closing the host', () => {
  it('closes its sockets and servers and ends every stream, then emits close', async () => {
    const [a, b] = await pair();
    const server = b.createServer();
    await server.listen(7);
    const accepted = onceEvent<HiplStream>(server, 'connection');
    const s = a.connect({ hit: b.hit, port: 7 });
    s.write('hello');
    const remote = await accepted;
    const sock = a.createSocket('udp');
    await sock.bind(9);
    const events: string[] = [];
    s.on('close', () => events.push('stream close'));
    s.on('error', () => events.push('stream error'));
    remote.on('close', () => events.push('remote close'));
    remote.on('error', () => events.push('remote error'));
    sock.on('close', () => events.push('socket close'));
    a.on('close', () => events.push('host close'));
    // Nobody reads either stream: closing must still end them.
    await a.close(200);
    expect(events).toContain('stream close');
    expect(events).toContain('socket close');
    expect(events.at(-1)).toBe('host close');
    expect(s.destroyed).toBe(true);
    await b.close(200);
    expect(events).toContain('remote close');
    expect(() => a.createSocket('udp')).toThrow(expect.objectContaining({ code: 'ERR_HIP_HOST_CLOSED' }));
  });

  it('await using: Symbol.asyncDispose closes the host', async () => {
    const h = await createHost({ udp: { address: LO } });
    const closed = onceEvent(h, 'close');
    await h[Symbol.asyncDispose]();
    await closed;
  });
});

describe("'disconnect' is an association, 'close' the host", () => {
  it('disconnect() emits disconnect, not close', async () => {
    const [a, b] = await pair();
    const sink = b.createSocket('udp');
    await sink.bind(9);
    await a.createSocket('udp').send('x', b.hit, 9);
    const seen: string[] = [];
    a.on('close', () => seen.push('close'));
    const d = onceEvent<{ peerHit: string }>(a, 'disconnect');
    await a.disconnect(b.hit);
    expect((await d).peerHit).toBe(b.hit);
    expect(seen).toEqual([]);
  });
});

describe('stream and rinfo fields', () => {
  it('bytesRead, bytesWritten, remoteAddress, remoteFamily, setTimeout', async () => {
    const [a, b] = await pair();
    const server = b.createServer((st) => {
      st.on('error', () => undefined); // reset when the client destroys its end
      st.pipe(st);
    });
    await server.listen(7);
    const s = a.connect({ hit: b.hit, port: 7 });
    await onceEvent(s, 'connect');
    s.write('12345');
    await new Promise<void>((resolve) => s.once('data', () => resolve()));
    expect(s.bytesWritten).toBe(5);
    expect(s.bytesRead).toBe(5);
    expect(s.remoteAddress).toBe(LO);
    expect(s.remoteFamily).toBe('IPv4');
    const timedOut = new Promise<void>((resolve) => s.setTimeout(30, resolve));
    await timedOut;
    expect(s.destroyed).toBe(false);
    s.setTimeout(0);
    s.destroy();
  });
});

describe('ref() and unref()', () => {
  const tsxLoader = pathToFileURL(fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url))).href;
  const entry = pathToFileURL(fileURLToPath(new URL('../../src/socket/index.ts', import.meta.url))).href;

  /**
   * Run a script in a child process; resolves whether it exited by itself within `limitMs` of
   * finishing the script. The clock starts when the script has run (it says so on stdout), so a
   * slow start of the child on a loaded machine is not taken for a process kept alive.
   */
  function exitsByItself(body: string, limitMs = 10_000): Promise<boolean> {
    const script = `const { createHost } = await import(${JSON.stringify(entry)});\n${body}\nprocess.stdout.write('ready\\n');`;
    const child = spawn(process.execPath, ['--import', tsxLoader, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    return new Promise((resolve) => {
      let t: NodeJS.Timeout | undefined;
      child.stdout.on('data', (d: Buffer) => {
        if (t || !d.toString().includes('ready')) return;
        t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(false);
        }, limitMs);
      });
      // 'close', not 'exit': it comes after the child's stdout is read to the end, so a child
      // that says 'ready' and exits at once is never taken for one that never got ready.
      child.on('close', () => {
        clearTimeout(t);
        resolve(t !== undefined);
      });
    });
  }

  it('an unref()ed host, socket or server lets the process exit; a referenced one keeps it alive', async () => {
    const [hostUnref, sockUnref, serverUnref, kept] = await Promise.all([
      exitsByItself(`const h = await createHost({ udp: { address: '127.0.0.1' } }); h.unref();`),
      exitsByItself(`const h = await createHost({ udp: { address: '127.0.0.1' } }); const s = h.createSocket('udp'); await s.bind(7); s.unref();`),
      exitsByItself(`const h = await createHost({ udp: { address: '127.0.0.1' }, tcp: { address: '127.0.0.1' } }); const s = h.createServer(); await s.listen(7); s.unref();`),
      exitsByItself(`const h = await createHost({ udp: { address: '127.0.0.1' } }); const s = h.createSocket('udp'); await s.bind(7); s.unref(); s.ref();`, 4000),
    ]);
    expect(hostUnref).toBe(true);
    expect(sockUnref).toBe(true);
    expect(serverUnref).toBe(true);
    // The socket referenced again keeps it alive (killed after 4 s).
    expect(kept).toBe(false);
  }, 90_000);
});
