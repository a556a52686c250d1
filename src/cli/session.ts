/**
 * `hipl listen` and `hipl connect`: a HIP netcat. Standard input goes to the peer, what the
 * peer sends goes to standard output; messages for a person go to standard error.
 * @module
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { hitVersion, parseHit } from '../crypto/hit.js';
import { HostIdentity } from '../crypto/identity.js';
import { loadOrCreateIdentity } from '../crypto/load-or-create.js';
import { parsePrivateKeyPem } from '../crypto/keyfile.js';
import { HipError } from '../errors.js';
import { createHost, type CreateHostOptions, type HiplHost } from '../socket/host.js';
import type { HiplStream } from '../socket/server.js';
import { CliError, ExitCode, exitCodeOf } from './exit-codes.js';
import { readAll, say, type CliIo } from './io.js';
import { HIP_NAT_UDP_PORT } from '../transport/index.js';
import { parsePeer, parsePort, parseTarget } from './target.js';

/**
 * The HIP port data goes to inside ESP. Not the carrier's port: Wireshark told to decode the
 * carrier port as ESP would take the decrypted inner datagrams for ESP too. libhipl's
 * clear-text mode has no inner header: there the data port is the carrier port, as in libhipl.
 */
export const DATA_PORT = 7;

const COMMON = {
  udp: { type: 'boolean' },
  tcp: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  address: { type: 'string', short: 'a' },
  key: { type: 'string', short: 'k' },
  'libhipl-cleartext': { type: 'boolean' },
  // The old name of --libhipl-cleartext, still accepted.
  v1: { type: 'boolean' },
  pcap: { type: 'string' },
  keylog: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  peer: { type: 'string', multiple: true },
  hosts: { type: 'string' },
  timeout: { type: 'string' },
  wait: { type: 'string' },
  nat: { type: 'boolean' },
  rvs: { type: 'string' },
  relay: { type: 'string' },
} as const;

interface Common {
  carrier: 'udp' | 'tcp';
  port: number | undefined;
  address: string | undefined;
  key: string | undefined;
  /** libhipl's clear-text mode (HIPv1, data unencrypted). */
  clearText: boolean;
  pcap: string | undefined;
  keylog: string | undefined;
  verbose: boolean;
  peers: { hit: string; address: string }[];
  hosts: string | undefined;
  timeoutMs: number;
  waitMs: number;
  nat: boolean;
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
    clearText: values['libhipl-cleartext'] === true || values.v1 === true,
    pcap: values.pcap as string | undefined,
    keylog: values.keylog as string | undefined,
    verbose: values.verbose === true,
    peers: ((values.peer as string[] | undefined) ?? []).map(parsePeer),
    hosts: values.hosts as string | undefined,
    timeoutMs: ms('timeout', 20_000),
    waitMs: ms('wait', 200),
    nat: values.nat === true,
  };
}

/**
 * The identity of `listen` and `connect`: `--key FILE` (or `HIPL_KEY`), created with mode 0600
 * when it does not exist yet, so the HIT stays the same from run to run; `-` reads a PEM from
 * standard input; with neither, a new key for this run only. Also says, for people, which.
 */
async function identityFor(c: Common, io: CliIo): Promise<{ identity: HostIdentity; source: string }> {
  const file = c.key ?? io.env.HIPL_KEY;
  const wanted = c.clearText ? ({ algorithm: 'rsa', rsaBits: 2048 } as const) : {};
  if (file === undefined || file === '') {
    const identity = HostIdentity.generate(wanted);
    return { identity, source: `a new ${identity.algorithm} key for this run only (--key FILE keeps one)` };
  }
  let identity: HostIdentity;
  let created = false;
  if (file === '-') {
    identity = HostIdentity.fromPrivateKey(parsePrivateKeyPem(await readAll(io.stdin), 'standard input'));
  } else {
    created = !existsSync(file);
    try {
      identity = await loadOrCreateIdentity(file, wanted);
    } catch (e) {
      if (e instanceof HipError && e.code === 'ERR_IDENTITY_ALGORITHM_MISMATCH') {
        throw new CliError(ExitCode.IDENTITY, `--libhipl-cleartext needs an RSA key, ${file} is ${String(e.details?.algorithm)}`);
      }
      throw e;
    }
  }
  if (c.clearText && identity.algorithm !== 'rsa') throw new CliError(ExitCode.IDENTITY, `--libhipl-cleartext needs an RSA key, ${file} is ${identity.algorithm}`);
  const name = file === '-' ? 'standard input' : file;
  return { identity, source: `key ${name} (${identity.algorithm}${created ? ', created now' : ''})` };
}

async function makeHost(c: Common, io: CliIo, carriers: Pick<CreateHostOptions, 'udp' | 'tcp'>): Promise<{ host: HiplHost; keySource: string }> {
  const { identity, source } = await identityFor(c, io);
  // libhiplClearText makes the host warn once (a process warning, printed by main.ts).
  const opts: CreateHostOptions = { identity, libhiplClearText: c.clearText, ...carriers };
  if (c.pcap) opts.pcap = c.pcap;
  if (c.keylog) opts.keylog = c.keylog;
  if (c.nat) opts.natMode = true;
  if (c.verbose) opts.log = (line) => say(io, line);
  const host = await createHost(opts);
  host.on('failed', (e) => say(io, `${e.code}: ${e.message}`));
  host.on('error', (e) => say(io, `${e.code}: ${e.message}`));
  return { host, keySource: source };
}

/** What `hipl connect` needs to reach a listener: the line to paste on the other side. */
function connectLine(c: Common, hit: string, address: string, port: number): string {
  const shown = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  const at = shown.includes(':') ? `[${shown}]` : shown;
  const flags = `${c.carrier === 'tcp' ? ' --tcp' : ''}${c.clearText ? ' --libhipl-cleartext' : ''}`;
  const elsewhere = shown === address ? '' : ' (from another machine: this host\'s address)';
  return `connect with: hipl connect ${hit}@${at}:${port}${flags}${elsewhere}`;
}

/** Why a HIT cannot be reached in the chosen mode, or undefined when it can. */
function modeMismatch(hit: string, clearText: boolean): string | undefined {
  const v = hitVersion(parseHit(hit));
  if (clearText && v === 2) return `${hit} is a HIPv2 HIT (2001:2x::/28), but --libhipl-cleartext speaks HIPv1, whose HITs are 2001:1x::/28 (hipl hit --libhipl-cleartext KEYFILE prints one); drop --libhipl-cleartext to talk HIPv2`;
  if (!clearText && v === 1) return `${hit} is a HIPv1 (libhipl) HIT (2001:1x::/28): add --libhipl-cleartext to talk to libhipl`;
  return undefined;
}

/** Exit code and message for an association that ended: orderly (0) or lost (5). */
function onAssociationEnd(io: CliIo, end: Ending, e: { peerHit: string; by: string }): void {
  if (e.by === 'local' || e.by === 'peer' || e.by === 'idle') return end.finish(ExitCode.OK);
  say(io, `association with ${e.peerHit} lost (${e.by === 'transport' ? 'the connection to the peer broke' : 'the peer stopped answering'})`);
  end.finish(ExitCode.BROKEN);
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
    // An orderly CLOSE ends the stream; an error here means the peer or its connection died.
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
  // NAT mode listens where HIP over UDP is expected: port 10500 (RFC 5770, HIPL).
  const at = { ...wildcardFor(c.address), ...(c.address ? { address: c.address } : {}), port: c.port ?? (c.nat && c.carrier === 'udp' ? HIP_NAT_UDP_PORT : 0) };
  const { host, keySource } = await makeHost(c, io, c.carrier === 'udp' ? { udp: at, tcp: false } : { udp: false, tcp: at });
  const end = new Ending();
  void io.interrupted?.then(() => end.finish(ExitCode.INTERRUPTED));
  try {
    for (const p of c.peers) host.peers.add(p.hit, { address: p.address, port: c.port ?? 0, carrier: c.carrier });
    const local = c.carrier === 'udp' ? host.address().udp! : host.address().tcp!;
    const dataPort = c.clearText ? local.port : DATA_PORT;
    if (c.carrier === 'udp') {
      const sock = host.createSocket('udp');
      await sock.bind(dataPort);
      let peer: { hit: string; port: number } | undefined;
      sock.on('message', (data, from) => {
        peer ??= from;
        io.stdout.write(data);
      });
      io.stdin.on('data', (chunk: Buffer) => {
        if (!peer) return say(io, 'no peer yet: input dropped');
        sock.send(chunk, peer.hit, peer.port).catch((e: unknown) => say(io, String(e)));
      });
      host.core.on('closed', (e) => {
        if (peer && e.peerHit === peer.hit) onAssociationEnd(io, end, e);
      });
    } else {
      const server = host.createServer();
      await server.listen(dataPort);
      server.once('connection', (stream) => {
        server.close();
        say(io, `connection from ${stream.remoteHit} port ${stream.remotePort}`);
        pipeStream(stream, io, end);
      });
    }
    if (values.rvs !== undefined) await registerAt(host, values.rvs, 'rendezvous', c, io);
    if (values.relay !== undefined) await registerAt(host, values.relay, 'relay', c, io);
    say(io, `listening on ${c.carrier} ${local.address}:${local.port} as HIT ${host.hit}, ${keySource}`);
    say(io, connectLine(c, host.hit, local.address, local.port));
    return await end.done;
  } finally {
    await host.close(c.waitMs);
  }
}

/**
 * `listen --rvs HIT@ADDR:PORT` / `listen --relay HIT@ADDR:PORT`: register with the rendezvous
 * server or the HIP relay (RFC 9028; control and data relay), renewed while we run.
 */
async function registerAt(host: HiplHost, text: string, type: 'rendezvous' | 'relay', c: Common, io: CliIo): Promise<void> {
  const flag = type === 'relay' ? '--relay' : '--rvs';
  if (c.carrier !== 'udp') throw new CliError(ExitCode.USAGE, `${flag}: the server is reached over UDP; drop --tcp`);
  const server = parseTarget(text);
  if (!server.address || !server.hit) throw new CliError(ExitCode.USAGE, `${flag}: expected HIT@ADDR:PORT`);
  const what = type === 'relay' ? 'HIP relay' : 'rendezvous server';
  const reg = await host.core.registerWith({ hit: server.hit, address: server.address, port: server.port ?? 10500, type });
  say(io, `registered with ${what} ${reg.hit} for ${Math.round(reg.lifetime)} s${reg.reflexive ? `, seen as ${reg.reflexive.address}:${reg.reflexive.port}` : ''}`);
  // Renewals go by UPDATE and are quiet; say when one fails (it is tried again) and when a
  // registration comes back after a failure (e.g. the server restarted).
  let lost = false;
  host.core.on('registration', (e) => {
    if (e.role !== 'requester' || e.peerHit !== reg.hit) return;
    if (e.status === 'failed' || e.status === 'refused') {
      lost = true;
      say(io, `renewing the registration with ${reg.hit} failed (${e.error ?? e.failed.map((f) => `type ${f.type}: failure ${f.failureType}`).join(', ')})${e.status === 'failed' ? '; trying again' : ''}`);
    } else if (e.status === 'granted' && lost) {
      lost = false;
      say(io, `registered with ${what} ${reg.hit} again for ${Math.round(e.lifetime)} s`);
    }
  });
}

/**
 * `hipl connect HIT@ADDR:PORT [--udp|--tcp] [--peer HIT=ADDR] ...`: run the BEX with the peer,
 * then relay until standard input ends (UDP) or the peer ends the stream (TCP).
 */
export async function connect(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError(ExitCode.USAGE, 'connect takes one target: HIT@ADDR:PORT, or a name from --hosts');
  const c = common(values);
  const target = parseTarget(positionals[0]!);
  const givenHit = target.hit;
  if (givenHit !== undefined) {
    const mismatch = modeMismatch(givenHit, c.clearText);
    if (mismatch) throw new CliError(ExitCode.USAGE, mismatch);
  }
  const port = target.port ?? c.port;
  if (port === undefined || port === 0) throw new CliError(ExitCode.USAGE, 'no port: use HIT@ADDR:PORT or --port');
  const bindAt = { ...wildcardFor(target.address ?? c.peers[0]?.address), ...(c.address ? { address: c.address } : {}), port: 0 };
  const { host } = await makeHost(c, io, c.carrier === 'udp' ? { udp: bindAt, tcp: false } : { udp: false, tcp: false });
  const end = new Ending();
  void io.interrupted?.then(() => end.finish(ExitCode.INTERRUPTED));
  try {
    if (target.address && givenHit) host.peers.add(givenHit, { address: target.address, port, carrier: c.carrier });
    for (const p of c.peers) host.peers.add(p.hit, { address: p.address, port, carrier: c.carrier });
    if (c.hosts) await host.loadHostsFile(c.hosts, { port, carrier: c.carrier });
    // A name (from the hosts file) stands for its HIT.
    const hit = givenHit ?? host.peers.get(target.name!)?.hit;
    if (hit === undefined) throw new CliError(ExitCode.USAGE, `unknown name ${target.name}: not a HIT, and no "HIT ${target.name}" and "IP ${target.name}" lines in --hosts FILE`);
    if (givenHit === undefined) {
      const mismatch = modeMismatch(hit, c.clearText);
      if (mismatch) throw new CliError(ExitCode.USAGE, mismatch);
    }
    if (!host.peers.get(hit)) throw new CliError(ExitCode.USAGE, `no address for ${hit}: use HIT@ADDR:PORT, --peer HIT=ADDR or --hosts FILE`);
    const dataPort = c.clearText ? port : DATA_PORT;
    const timeout = AbortSignal.timeout(c.timeoutMs);
    if (c.carrier === 'udp') {
      await Promise.race([
        host.core.connect(hit, { signal: timeout }).catch((e: unknown) => {
          throw e instanceof HipError && e.code === 'ERR_HIP_ABORTED' ? new CliError(ExitCode.BEX_FAILED, `no base exchange with ${hit} within ${c.timeoutMs} ms`) : e;
        }),
        end.done,
      ]);
      const sock = host.createSocket('udp');
      await sock.bind(c.clearText ? host.address().udp!.port : DATA_PORT);
      sock.on('message', (data) => io.stdout.write(data));
      host.core.on('closed', (e) => {
        if (e.peerHit === hit) onAssociationEnd(io, end, e);
      });
      let sending = Promise.resolve();
      io.stdin.on('data', (chunk: Buffer) => {
        sending = sending.then(() => sock.send(chunk, hit, dataPort)).catch((e: unknown) => {
          say(io, e instanceof HipError ? `${e.code}: ${e.message}` : String(e));
          end.finish(exitCodeOf(e));
        });
      });
      io.stdin.on('end', () => {
        void sending.then(() => setTimeout(() => end.finish(ExitCode.OK), c.waitMs));
      });
    } else {
      const stream = host.connect({ hit, port: dataPort, signal: timeout });
      stream.once('connect', () => {
        if (c.verbose) say(io, `stream open to ${hit} port ${dataPort}`);
      });
      pipeStream(stream, io, end);
    }
    return await end.done;
  } finally {
    await host.close(c.waitMs);
  }
}
