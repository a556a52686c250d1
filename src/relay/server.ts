/**
 * A rendezvous server (RFC 8004) and HIP relay (RFC 5770 / RFC 9028) anyone can run: a HIP host
 * that registers whitelisted clients (RFC 8003, within lifetime bounds), forwards the I1s
 * addressed to their HITs (rendezvous), and with `relay` on relays all their control packets
 * (RELAY_UDP_HIP) and their ESP (RELAY_UDP_ESP), rate limited per client, with counters and one
 * log line per event. `hipl rvs` (and `hipl relay`) run it from the command line.
 * @module
 */
import { RegType } from '../wire/index.js';
import type { RegistryStats } from '../core/registration.js';
import type { RelayLimits, RelayServiceStats } from '../core/relay.js';
import { HostIdentity } from '../crypto/identity.js';
import { formatHit } from '../crypto/hit.js';
import { HipArgumentError } from '../errors.js';
import { HipHost, type HostOptions } from '../host/host.js';
import type { CarrierPeer } from '../transport/index.js';

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /** The server's identity. Default: a fresh one (clients must then learn its HIT from the log). */
  identity?: HostIdentity;
  /** Address to bind. Default '0.0.0.0'. */
  address?: string;
  /** UDP port. Default 10500. */
  port?: number;
  /** HITs allowed to register (see `loadWhitelist`), or 'any' to serve every authenticated host. */
  whitelist: readonly string[] | 'any';
  /** Shortest registration granted, seconds. Default 60. */
  minLifetime?: number;
  /** Longest registration granted, seconds. Default 3600. */
  maxLifetime?: number;
  /** I1s forwarded per second to one client (burst of the same size). Default 20. */
  forwardPerSecond?: number;
  /** Clients registered at once. Default 1024. */
  maxClients?: number;
  /** Offer the rendezvous service (registration type 1). Default true. */
  rendezvous?: boolean;
  /**
   * Offer the HIP relay (RFC 9028 types 2 RELAY_UDP_HIP and 3 RELAY_UDP_ESP): `true`, or the
   * per-client limits (control packets per second, ESP bytes per second, peers). Default off.
   */
  relay?: boolean | RelayLimits;
  /** Receives one line per event (registrations, refusals). Default: none. */
  log?: (line: string) => void;
  /** More host options (pcap, engine tuning). */
  host?: Omit<HostOptions, 'identity' | 'udp' | 'tcp'>;
}

/** Counters of a running server. */
export interface RelayStats extends RegistryStats, RelayServiceStats {
  /** Clients registered now. */
  clients: number;
  /** HIP packets received. */
  received: number;
}

/** A client registered with the server. */
export interface RelayClient {
  /** The client's HIT. */
  hit: string;
  /** Registration types it holds. */
  types: number[];
  /** Seconds until its registration ends. */
  remaining: number;
}

/** A running rendezvous server. */
export class RelayServer {
  private constructor(
    /** The HIP host under the server (its engine keeps the registrations). */
    readonly host: HipHost,
  ) {}

  /** @internal */
  static async start(opts: RelayOptions): Promise<RelayServer> {
    if (opts.whitelist !== 'any' && !Array.isArray(opts.whitelist)) {
      throw new HipArgumentError('ERR_HIP_BAD_ARGUMENT', "whitelist must be a list of HITs or 'any'");
    }
    const allow = opts.whitelist === 'any' ? () => true : [...opts.whitelist];
    const log = opts.log ?? (() => undefined);
    const types = [
      ...(opts.rendezvous === false ? [] : [RegType.RENDEZVOUS]),
      ...(opts.relay ? [RegType.RELAY_UDP_HIP, RegType.RELAY_UDP_ESP] : []),
    ];
    if (types.length === 0) throw new HipArgumentError('ERR_HIP_BAD_ARGUMENT', 'a server with neither rendezvous nor relay offers nothing');
    const host = await HipHost.create({
      ...opts.host,
      identity: opts.identity ?? HostIdentity.generate(),
      udp: { address: opts.address ?? '0.0.0.0', port: opts.port ?? 10500 },
      tcp: false,
      engine: {
        ...opts.host?.engine,
        registrar: {
          types,
          ...(typeof opts.relay === 'object' ? { relay: opts.relay } : {}),
          minLifetimeS: opts.minLifetime ?? 60,
          maxLifetimeS: opts.maxLifetime ?? 3600,
          allow,
          forwardPerSecond: opts.forwardPerSecond ?? 20,
          maxClients: opts.maxClients ?? 1024,
        },
        // A registration lasts as long as its association: do not close clients for idleness
        // before their registration ends.
        idleTimeoutMs: Math.max(opts.host?.engine?.idleTimeoutMs ?? 0, (opts.maxLifetime ?? 3600) * 1000 + 60_000),
      },
    });
    host.on('registration', (e) => {
      if (e.role !== 'registrar') return;
      if (e.granted.length > 0) log(`${e.lifetime === 0 ? 'cancelled' : 'registered'} ${e.peerHit} for ${e.granted.map(typeName).join(',')}${e.lifetime ? ` (${Math.round(e.lifetime)} s)` : ''}`);
      for (const f of e.failed) log(`refused ${e.peerHit} ${typeName(f.type)}: ${FAILURE[f.failureType] ?? `failure type ${f.failureType}`}`);
    });
    host.on('closed', (e) => log(`association with ${e.peerHit} ended (${e.by})`));
    return new RelayServer(host);
  }

  /** The server's HIT. */
  get hit(): string {
    return this.host.hit();
  }

  /** Where the server listens. */
  get address(): CarrierPeer {
    return this.host.udpAddress!;
  }

  /** Live counters: registrations, forwarded and rate-limited I1s, relayed control packets and ESP, clients. */
  stats(): RelayStats {
    const engine = this.host.engine;
    return { ...engine.registry.stats, ...engine.relayStats, clients: engine.registry.clients(this.host.now()).length, received: engine.stats.received };
  }

  /** The clients registered now, with their types and remaining seconds. */
  clients(): RelayClient[] {
    const now = this.host.now();
    return this.host.engine.registry.clients(now).map((c) => ({ hit: formatHit(c.peerHit), types: c.types, remaining: Math.max(0, (c.expiresAt - now) / 1000) }));
  }

  /** Stop serving: close every association and the socket. */
  async close(): Promise<void> {
    await this.host.shutdown(200);
  }
}

/**
 * Start a rendezvous server (and, with `relay`, a HIP relay).
 *
 * @example
 * ```ts
 * const rvs = await createRelay({ whitelist: loadWhitelist('whitelist.txt'), log: console.log });
 * console.log(`rendezvous server ${rvs.hit} on port ${rvs.address.port}`);
 * // A relay for clients behind NATs that cannot be reached directly, 2 MB/s of ESP each:
 * const relay = await createRelay({ whitelist: ['2001:2a:1234::1'], relay: { espBytesPerSecond: 2e6 } });
 * ```
 */
export function createRelay(opts: RelayOptions): Promise<RelayServer> {
  return RelayServer.start(opts);
}

const FAILURE: Record<number, string> = { 0: 'not on the whitelist', 1: 'type not offered', 2: 'server full' };

const TYPE_NAMES: Record<number, string> = { [RegType.RENDEZVOUS]: 'rendezvous', [RegType.RELAY_UDP_HIP]: 'relay', [RegType.RELAY_UDP_ESP]: 'data-relay' };

function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `type ${t}`;
}
