/**
 * Real NATs for integration tests: a small lab of Linux network namespaces joined by veth pairs,
 * with iptables MASQUERADE on the NAT routers, and hipl processes running inside them.
 *
 * Layout built by {@link NetLab}: one namespace `inet` holds a bridge that stands for the public
 * Internet (198.51.100.0/24, a documentation range, existing only inside these namespaces).
 * Public hosts and the WAN side of each NAT router hang on that bridge; each NAT router has a
 * LAN bridge of its own (10.N.0.0/24) with its private hosts behind it. Nothing is routed out of
 * the lab: the namespaces have no link to the machine's own network.
 *
 * Names are unique per run (`hipl-<pid>-<random>-<name>`), so parallel test files and parallel
 * CI runs never collide, and {@link NetLab.destroy} (afterEach/afterAll) kills the processes it
 * started and deletes every namespace. A process exit handler deletes whatever a crashed or
 * timed-out test left, and {@link NetLab.create} sweeps namespaces of dead test processes.
 *
 * Tests use `describe.skipIf(skipWithoutNetns())`: without root or the tools they are skipped
 * with a printed reason, except with `CI=true`, where they run and fail loudly.
 * @module
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startPeer, type Peer } from '../host/processes.js';

/** The public "Internet" of the lab (RFC 5737 TEST-NET-2, only inside the lab's namespaces). */
export const PUBLIC_NET = '198.51.100';

const PREFIX = 'hipl-';
const TSX = pathToFileURL(fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url))).href;
const TOOLS = ['ip', 'iptables', 'conntrack'] as const;

let why: string | undefined | null = null;

/** Why network-namespace tests cannot run here, or undefined when they can (checked once). */
export function netnsUnavailableReason(): string | undefined {
  if (why !== null) return why;
  why = undefined;
  if (process.platform !== 'linux') why = 'network namespaces need Linux';
  else if (process.getuid?.() !== 0) why = 'network namespaces need root';
  else {
    const missing = TOOLS.filter((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).error !== undefined);
    if (missing.length > 0) why = `missing ${missing.join(', ')} (apt-get install iproute2 iptables conntrack)`;
    else {
      // Root in a container without CAP_SYS_ADMIN cannot create namespaces: try one.
      const probe = `${PREFIX}${process.pid}-probe`;
      const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
      if (r.status !== 0) why = `'ip netns add' fails here: ${(r.stderr ?? '').trim()}`;
      spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    }
  }
  return why;
}

let noted = false;

/**
 * Whether real-NAT tests should be skipped: only when namespaces are unavailable and this is not
 * CI. Prints the reason once, so a skipped NAT test is not mistaken for a passing one.
 */
export function skipWithoutNetns(): boolean {
  const reason = netnsUnavailableReason();
  if (reason === undefined || process.env.CI === 'true') return false;
  if (!noted) {
    noted = true;
    console.warn(`real-NAT tests skipped: ${reason} (CI=true makes them run and fail instead)`);
  }
  return true;
}

/** Run a command; resolve with stdout, reject with its stderr. */
export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

const liveLabs = new Set<NetLab>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test killed by its timeout or a crashed worker still must not leave namespaces behind.
  process.on('exit', () => {
    for (const lab of liveLabs) lab.destroySync();
  });
}

/** Delete lab namespaces whose creating process is gone (left by a killed run). */
function sweepStale(): void {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^hipl-(\d+)-/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  }
}

/** A NAT router of the lab. */
export interface NatRouter {
  /** Full namespace name. */
  ns: string;
  /** Its public (WAN) address: what peers see as the source of its hosts. */
  wan: string;
  /** Its LAN prefix, e.g. `10.1.0` (the router is `.1`). */
  lan: string;
}

/**
 * A lab of namespaces. Create it with {@link NetLab.create}; always {@link NetLab.destroy} it.
 *
 * @example
 * ```ts
 * const lab = await NetLab.create();
 * const r = await lab.publicHost('r', 10);                 // 198.51.100.10
 * const nat = await lab.nat('nat1', 1);                    // WAN 198.51.100.1, LAN 10.1.0.0/24
 * const i = await lab.privateHost('i', nat, 2);            // 10.1.0.2 behind nat1
 * const peer = await lab.startPeer(i, { ... });
 * await lab.destroy();
 * ```
 */
export class NetLab {
  /** Unique run prefix of every namespace name. */
  readonly id: string;
  private readonly namespaces: string[] = [];
  private readonly peers: Peer[] = [];
  private readonly children: ChildProcess[] = [];
  private nextLink = 0;
  private destroyed = false;

  private constructor() {
    this.id = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  /** Build the public side (namespace `inet` with bridge `br0`). */
  static async create(): Promise<NetLab> {
    installExitHook();
    sweepStale();
    const lab = new NetLab();
    liveLabs.add(lab);
    try {
      const inet = await lab.namespace('inet');
      await lab.ip(inet, 'link', 'add', 'br0', 'type', 'bridge');
      await lab.ip(inet, 'link', 'set', 'br0', 'up');
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Full name of the lab namespace `name`. */
  nsName(name: string): string {
    return `${this.id}-${name}`;
  }

  /** Create a namespace with loopback up; returns its full name. */
  async namespace(name: string): Promise<string> {
    const ns = this.nsName(name);
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await this.ip(ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** `ip -n ns ...` */
  ip(ns: string, ...args: string[]): Promise<string> {
    return run('ip', ['-n', ns, ...args]);
  }

  /** Run any command inside a namespace. */
  exec(ns: string, cmd: string, ...args: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /**
   * Plug interface `ifname` of namespace `ns` into `bridge` of namespace `bridgeNs` with a veth
   * pair, and give it `cidr` (e.g. `198.51.100.10/24`) unless undefined.
   */
  async plug(ns: string, ifname: string, cidr: string | undefined, bridgeNs: string, bridge: string): Promise<void> {
    const port = `p${this.nextLink++}`;
    await run('ip', ['link', 'add', port, 'netns', bridgeNs, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
    await this.ip(bridgeNs, 'link', 'set', port, 'master', bridge);
    await this.ip(bridgeNs, 'link', 'set', port, 'up');
    if (cidr) await this.ip(ns, 'addr', 'add', cidr, 'dev', ifname);
    await this.ip(ns, 'link', 'set', ifname, 'up');
  }

  /** A host on the public side at `198.51.100.<octet>`; returns its namespace. */
  async publicHost(name: string, octet: number): Promise<string> {
    const ns = await this.namespace(name);
    await this.plug(ns, 'eth0', `${PUBLIC_NET}.${octet}/24`, this.nsName('inet'), 'br0');
    return ns;
  }

  /**
   * A NAT router: WAN `198.51.100.<octet>` on the public bridge, LAN bridge `10.<lanNet>.0.1/24`,
   * forwarding on, MASQUERADE of everything leaving the WAN. `udpTimeoutS` lowers the conntrack
   * UDP timeouts (per namespace) so a test can let a mapping expire quickly.
   */
  async nat(name: string, octet: number, opts: { lanNet?: number; udpTimeoutS?: number } = {}): Promise<NatRouter> {
    const ns = await this.namespace(name);
    const lan = `10.${opts.lanNet ?? octet}.0`;
    await this.plug(ns, 'wan', `${PUBLIC_NET}.${octet}/24`, this.nsName('inet'), 'br0');
    await this.ip(ns, 'link', 'add', 'lan', 'type', 'bridge');
    await this.ip(ns, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan');
    await this.ip(ns, 'link', 'set', 'lan', 'up');
    await this.exec(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await this.exec(ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE');
    if (opts.udpTimeoutS !== undefined) await this.setUdpTimeout({ ns, wan: '', lan }, opts.udpTimeoutS);
    return { ns, wan: `${PUBLIC_NET}.${octet}`, lan };
  }

  /** Set both conntrack UDP timeouts (unreplied and assured stream) of a NAT router, in seconds. */
  async setUdpTimeout(nat: NatRouter, seconds: number): Promise<void> {
    // The conntrack sysctls appear once the module is in use in that namespace; the rule above loads it.
    await this.exec(nat.ns, 'sysctl', '-qw', `net.netfilter.nf_conntrack_udp_timeout=${seconds}`, `net.netfilter.nf_conntrack_udp_timeout_stream=${seconds}`);
  }

  /**
   * A host behind `nat` at `10.N.0.<octet>` (default route via the router); returns its namespace.
   * `ifname` lets a mobile host have several interfaces (e.g. `eth1` behind a second NAT).
   */
  async privateHost(name: string, nat: NatRouter, octet: number, opts: { ns?: string; ifname?: string } = {}): Promise<string> {
    const ns = opts.ns ?? (await this.namespace(name));
    await this.plug(ns, opts.ifname ?? 'eth0', `${nat.lan}.${octet}/24`, nat.ns, 'lan');
    await this.ip(ns, 'route', 'replace', 'default', 'via', `${nat.lan}.1`);
    return ns;
  }

  /** Forget every connection the NAT tracks: its hosts' next packets get fresh mappings. */
  async flushConntrack(nat: NatRouter): Promise<void> {
    await this.exec(nat.ns, 'conntrack', '-F').catch((e: Error) => {
      // conntrack -F exits 1 with "0 flow entries" on an empty table on some versions.
      if (!/flow entries/.test(e.message)) throw e;
    });
  }

  /**
   * NAT rebinding: from now on the NAT maps its hosts to source ports in `ports` (e.g.
   * `40000-40999`) and forgets its current mappings, so the next packet of a host leaves from a
   * new external port.
   */
  async rebind(nat: NatRouter, ports: string): Promise<void> {
    await this.exec(nat.ns, 'iptables', '-t', 'nat', '-F', 'POSTROUTING');
    await this.exec(nat.ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-p', 'udp', '-j', 'MASQUERADE', '--to-ports', ports);
    await this.exec(nat.ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-p', 'tcp', '-j', 'MASQUERADE', '--to-ports', ports);
    await this.exec(nat.ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE');
    await this.flushConntrack(nat);
  }

  /** Drop (on) or pass again (off) everything a NAT forwards: a path that is down. */
  async blockForwarding(nat: NatRouter, on: boolean): Promise<void> {
    await this.exec(nat.ns, 'iptables', on ? '-I' : '-D', 'FORWARD', '-j', 'DROP');
  }

  /**
   * Start a hipl process (a fixture script, default the netns peer) inside `ns`; it is killed by
   * {@link destroy}.
   */
  async startPeer(ns: string, config: Record<string, unknown>, fixture?: string): Promise<Peer> {
    const peer = await startPeer(config, { wrap: ['ip', 'netns', 'exec', ns], ...(fixture ? { fixture } : {}) });
    this.peers.push(peer);
    return peer;
  }

  /**
   * Run a TypeScript script with Node (tsx as a loader) inside `ns`, e.g. the `hipl` command;
   * killed by {@link destroy}.
   */
  spawnScript(ns: string, script: string, args: string[], cwd?: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', TSX, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    this.children.push(child);
    return child;
  }

  /** Kill the lab's processes and delete its namespaces (and with them every veth and rule). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const c of this.children.splice(0)) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    }
    for (const p of this.peers.splice(0)) {
      p.child.kill('SIGKILL');
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    for (const ns of this.namespaces.splice(0).reverse()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    this.destroyed = true;
    liveLabs.delete(this);
  }

  /** Synchronous last-resort cleanup (process exit). */
  destroySync(): void {
    if (this.destroyed) return;
    for (const p of this.peers.splice(0)) p.child.kill('SIGKILL');
    for (const c of this.children.splice(0)) c.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    this.destroyed = true;
  }
}
