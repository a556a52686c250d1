/**
 * `hipl listen` and `hipl connect`: a HIP netcat. Standard input goes to the peer, what the
 * peer sends goes to standard output; messages for a person go to standard error.
 * @module
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { HostIdentity } from '../crypto/identity.js';
import { HipError } from '../errors.js';
import { createHost, type CreateHostOptions, type HiplHost } from '../socket/host.js';
import type { HiplStream } from '../socket/server.js';
import { CliError, ExitCode, exitCodeOf } from './exit-codes.js';
import { say, type CliIo } from './io.js';
import { loadIdentity } from './keys.js';
import { parsePeer, parsePort, parseTarget } from './target.js';

const COMMON = {
  udp: { type: 'boolean' },
  tcp: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  address: { type: 'string', short: 'a' },
  key: { type: 'string', short: 'k' },
  v1: { type: 'boolean' },
  pcap: { type: 'string' },
  keylog: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  peer: { type: 'string', multiple: true },
  hosts: { type: 'string' },
  timeout: { type: 'string' },
  wait: { type: 'string' },
  rvs: { type: 'string' },
} as const;

interface Common {
  carrier: 'udp' | 'tcp';
  port: number | undefined;
  address: string | undefined;
  key: string | undefined;
  v1: boolean;
  pcap: string | undefined;
  keylog: string | undefined;
  verbose: boolean;
  peers: { hit: string; address: string }[];
  hosts: string | undefined;
  timeoutMs: number;
  waitMs: number;
}

function common(values: Record<string, string | boolean | string[] | undefined>): Common {
  if (values.udp && values.tcp) throw new CliError(ExitCode.USAGE, 'choose one of --udp and --tcp');
  const ms = (name: string, dflt: number): number => {
    const v = values[name];
    if (v === undefined) return dflt;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw new CliError(ExitCode.USAGE, `--${name}: milliseconds, not ${String(v)}`);
    return n;
  };
  const address = values.address as string | undefined;
  if (address !== undefined && isIP(address) === 0) throw new CliError(ExitCode.USAGE, `--address: not an IP address: ${address}`);
  return {
    carrier: values.tcp ? 'tcp' : 'udp',
    port: values.port === undefined ? undefined : parsePort(values.port as string, '--port', 0),
    address,
    key: values.key as string | undefined,
    v1: values.v1 === true,
    pcap: values.pcap as string | undefined,
    keylog: values.keylog as string | undefined,
    verbose: values.verbose === true,
    peers: ((values.peer as string[] | undefined) ?? []).map(parsePeer),
    hosts: values.hosts as string | undefined,
    timeoutMs: ms('timeout', 20_000),
    waitMs: ms('wait', 200),
  };
}

async function makeHost(c: Common, io: CliIo, carriers: Pick<CreateHostOptions, 'udp' | 'tcp'>): Promise<HiplHost> {
  let identity = await loadIdentity(c.key, io);
  if (identity && c.v1 && identity.algorithm !== 'rsa') throw new CliError(ExitCode.IDENTITY, `--v1 needs an RSA key, ${c.key ?? 'HIPL_KEY'} is ${identity.algorithm}`);
  identity ??= HostIdentity.generate(c.v1 ? { algorithm: 'rsa', rsaBits: 2048 } : {});
  const opts: CreateHostOptions = { identity, libhipl: c.v1, ...carriers };
  if (c.pcap) opts.pcap = c.pcap;
  if (c.keylog) opts.keylog = c.keylog;
  if (c.v1) say(io, 'HIPv1 (libhipl) mode: data travels UNENCRYPTED, as libhipl sends it');
  const host = await createHost(opts);
  if (c.verbose) {
    host.on('bex', (e) => say(io, `BEX ${e.step} (${e.packetName}${e.retransmission ? ', again' : ''}) peer ${e.peerHit} +${e.elapsedMs.toFixed(1)} ms`));
    host.on('established', (e) => say(io, `established with ${e.peerHit}: HIPv${e.version}, ${e.role}, ${e.carrier} ${e.address}:${e.port}, suite ${e.suite}, ${e.elapsedMs.toFixed(1)} ms`));
    host.on('close', (e) => say(io, `association with ${e.peerHit} closed (${e.by})`));
  }
  host.on('error', (e) => {
    if (c.verbose || e.code === 'ERR_HIP_BEX_FAILED') say(io, `${e.code}: ${e.message}`);
  });
  return host;
}

function wildcardFor(address: string | undefined): { address: string; family: 4 | 6 } {
  return address !== undefined && isIP(address) === 6 ? { address: '::', family: 6 } : { address: '0.0.0.0', family: 4 };
}

/** Resolves when the session should end; `finish(code)` ends it. */
class Ending {
  private resolve!: (code: number) => void;
  readonly done = new Promise<number>((r) => (this.resolve = r));
  /** Whether the session has ended. */
  ended = false;

  finish(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.resolve(code);
  }
}

function pipeStream(stream: HiplStream, io: CliIo, end: Ending): void {
  stream.on('data', (d: Buffer) => io.stdout.write(d));
  stream.on('end', () => end.finish(ExitCode.OK));
  stream.on('error', (e) => {
    if (end.ended) return;
    // The peer closing its association (CLOSE) ends the session as its FIN would.
    if (e instanceof HipError && e.code === 'ERR_HIP_CLOSED') return end.finish(ExitCode.OK);
    say(io, e instanceof HipError ? `${e.code}: ${e.message}` : e.message);
    end.finish(exitCodeOf(e));
  });
  io.stdin.pipe(stream);
}

/**
 * `hipl listen [--udp|--tcp] [--port N] [--address A] ...`: wait for one peer, then relay
 * until it goes (UDP: its CLOSE; TCP: the end of its stream).
 */
export async function listen(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new CliError(ExitCode.USAGE, `listen takes no arguments, got ${positionals.join(' ')}`);
  const c = common(values);
  const at = { ...wildcardFor(c.address), ...(c.address ? { address: c.address } : {}), port: c.port ?? 0 };
  const host = await makeHost(c, io, c.carrier === 'udp' ? { udp: at, tcp: false } : { udp: false, tcp: at });
  const end = new Ending();
  void io.interrupted?.then(() => end.finish(ExitCode.INTERRUPTED));
  try {
    for (const p of c.peers) host.peers.add(p.hit, { address: p.address, port: c.port ?? 0, carrier: c.carrier });
    const local = c.carrier === 'udp' ? host.address().udp! : host.address().tcp!;
    if (c.carrier === 'udp') {
      // As in libhipl, the application's port is the carrier's port.
      const sock = host.createSocket('udp');
      await sock.bind(local.port);
      let peer: { hit: string; port: number } | undefined;
      sock.on('message', (data, from) => {
        peer ??= from;
        io.stdout.write(data);
      });
      io.stdin.on('data', (chunk: Buffer) => {
        if (!peer) return say(io, 'no peer yet: input dropped');
        sock.send(chunk, peer.hit, peer.port).catch((e: unknown) => say(io, String(e)));
      });
      host.on('close', (e) => {
        if (peer && e.peerHit === peer.hit) end.finish(ExitCode.OK);
      });
    } else {
      const server = host.createServer();
      await server.listen(local.port);
      server.once('connection', (stream) => {
        server.close();
        say(io, `connection from ${stream.remoteHit} port ${stream.remotePort}`);
        pipeStream(stream, io, end);
      });
    }
    if (values.rvs !== undefined) await registerAtRvs(host, values.rvs, c, io);
    say(io, `listening on ${c.carrier} ${local.address}:${local.port} as HIT ${host.hit}`);
    return await end.done;
  } finally {
    await host.close(c.waitMs);
  }
}

/** `listen --rvs HIT@ADDR:PORT`: register with the rendezvous server (renewed while we run). */
async function registerAtRvs(host: HiplHost, text: string, c: Common, io: CliIo): Promise<void> {
  if (c.carrier !== 'udp') throw new CliError(ExitCode.USAGE, '--rvs: a rendezvous server is reached over UDP; drop --tcp');
  const server = parseTarget(text);
  if (!server.address) throw new CliError(ExitCode.USAGE, '--rvs: expected HIT@ADDR:PORT');
  const reg = await host.core.registerWith({ hit: server.hit, address: server.address, port: server.port ?? 10500 });
  say(io, `registered with rendezvous server ${reg.hit} for ${Math.round(reg.lifetime)} s${reg.reflexive ? `, seen as ${reg.reflexive.address}:${reg.reflexive.port}` : ''}`);
}

/**
 * `hipl connect HIT@ADDR:PORT [--udp|--tcp] [--peer HIT=ADDR] ...`: run the BEX with the peer,
 * then relay until standard input ends (UDP) or the peer ends the stream (TCP).
 */
export async function connect(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError(ExitCode.USAGE, 'connect takes one target: HIT@ADDR:PORT');
  const c = common(values);
  const target = parseTarget(positionals[0]!);
  const port = target.port ?? c.port;
  if (port === undefined || port === 0) throw new CliError(ExitCode.USAGE, 'no port: use HIT@ADDR:PORT or --port');
  const bindAt = { ...wildcardFor(target.address ?? c.peers[0]?.address), ...(c.address ? { address: c.address } : {}), port: 0 };
  const host = await makeHost(c, io, c.carrier === 'udp' ? { udp: bindAt, tcp: false } : { udp: false, tcp: false });
  const end = new Ending();
  void io.interrupted?.then(() => end.finish(ExitCode.INTERRUPTED));
  try {
    if (target.address) host.peers.add(target.hit, { address: target.address, port, carrier: c.carrier });
    for (const p of c.peers) host.peers.add(p.hit, { address: p.address, port, carrier: c.carrier });
    if (c.hosts) await host.loadHostsFile(c.hosts, { port, carrier: c.carrier });
    if (!host.peers.get(target.hit)) throw new CliError(ExitCode.USAGE, `no address for ${target.hit}: use HIT@ADDR:PORT, --peer HIT=ADDR or --hosts FILE`);
    const timeout = AbortSignal.timeout(c.timeoutMs);
    if (c.carrier === 'udp') {
      await Promise.race([
        host.core.connect(target.hit, { signal: timeout }).catch((e: unknown) => {
          throw e instanceof HipError && e.code === 'ERR_HIP_ABORTED' ? new CliError(ExitCode.BEX_FAILED, `no base exchange with ${target.hit} within ${c.timeoutMs} ms`) : e;
        }),
        end.done,
      ]);
      const sock = host.createSocket('udp');
      await sock.bind(host.address().udp!.port);
      sock.on('message', (data) => io.stdout.write(data));
      host.on('close', (e) => {
        if (e.peerHit === target.hit) end.finish(ExitCode.OK);
      });
      let sending = Promise.resolve();
      io.stdin.on('data', (chunk: Buffer) => {
        sending = sending.then(() => sock.send(chunk, target.hit, port)).catch((e: unknown) => {
          say(io, e instanceof HipError ? `${e.code}: ${e.message}` : String(e));
          end.finish(exitCodeOf(e));
        });
      });
      io.stdin.on('end', () => {
        void sending.then(() => setTimeout(() => end.finish(ExitCode.OK), c.waitMs));
      });
    } else {
      const stream = host.connect({ hit: target.hit, port, signal: timeout });
      stream.once('connect', () => {
        if (c.verbose) say(io, `stream open to ${target.hit} port ${port}`);
      });
      pipeStream(stream, io, end);
    }
    return await end.done;
  } finally {
    await host.close(c.waitMs);
  }
}
