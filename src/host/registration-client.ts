/**
 * The requester side of registration (RFC 8003) for a host: register with a server in a base
 * exchange, or by UPDATE on the association we already have with it (renewal, change,
 * cancellation: RFC 8003 §3.3-3.4), and renew before the granted lifetime ends.
 *
 * Renewal goes by UPDATE; when that UPDATE is never acknowledged (the server restarted and lost
 * our association, or moved), the old association is dropped and a fresh base exchange registers
 * again. A renewal that fails altogether is reported as a `registration` event with status
 * `'failed'`, never as an `'error'`, and is tried again later: the server may be restarting.
 * A server that is lost before the renewal is due (its path dead: the liveness probes of NAT
 * mode went unanswered; or it closed our association) is registered with again at once, so a
 * restarted server does not leave us unreachable until the next renewal.
 * @module
 */
import type { HipEngine } from '../core/engine.js';
import type { RegistrationRequest } from '../core/registration.js';
import { parseHit } from '../crypto/hit.js';
import { HipArgumentError, HipError } from '../errors.js';
import type { HostLocator } from './locator.js';
import { canonicalHit, type PeerAddress } from './peer-table.js';
import {
  registrationResult,
  registrationTypes,
  renewalDelayMs,
  type HostRegistrationEvent,
  type RegisterOptions,
  type Registration,
} from './registrations.js';

/** What the registration client needs of its host. @internal */
export interface RegistrationHost {
  readonly engine: HipEngine<HostLocator>;
  readonly peers: { add(hit: string, address: PeerAddress): unknown };
  now(): number;
  connect(hit: string, opts: { register: RegistrationRequest }): Promise<unknown>;
  /** Let the engine's output go out (after a call into the engine). */
  pump(): void;
  on(event: 'registration', fn: (e: HostRegistrationEvent) => void): unknown;
  off(event: 'registration', fn: (e: HostRegistrationEvent) => void): unknown;
  emit(event: 'registration', e: HostRegistrationEvent): unknown;
  /** Call `fn` with a peer's HIT when its path is dead or it closed our association. */
  onPeerLost(fn: (hit: string) => void): void;
}

/** Longest wait before a failed renewal is tried again, ms. */
const MAX_RETRY_MS = 30_000;

/** Registrations this host holds with servers, and their renewal timers. @internal */
export class RegistrationClient {
  private readonly renewals = new Map<string, NodeJS.Timeout>();
  /** What each server with a renewal scheduled was asked for (to register again at once). */
  private readonly servers = new Map<string, { server: RegisterOptions; lifetimeS: number }>();
  private closed = false;

  constructor(private readonly host: RegistrationHost) {
    host.onPeerLost((hit) => {
      const s = this.servers.get(hit);
      if (s && this.renewals.has(hit) && !this.closed) this.renewAfter(s.server, hit, 0, s.lifetimeS);
    });
  }

  /** Register (or renew, or change) with a server; see {@link HipHost.registerWith}. */
  async register(server: RegisterOptions): Promise<Registration> {
    const types = registrationTypes(server.type);
    const hit = canonicalHit(server.hit);
    const lifetimeS = server.lifetime ?? 3600;
    if (!(lifetimeS > 0)) throw new HipArgumentError('ERR_HIP_BAD_ARGUMENT', `lifetime must be a positive number of seconds, got ${lifetimeS}`);
    this.host.peers.add(hit, { carrier: 'udp', address: server.address, port: server.port ?? 10500 });
    this.stopRenewal(hit);
    const reg = registrationResult(await this.exchange(hit, { types, lifetimeS }));
    if (server.renew !== false && !this.closed) this.renewAfter(server, hit, renewalDelayMs(reg.lifetime, this.host.engine.config.idleTimeoutMs), reg.lifetime);
    return reg;
  }

  /**
   * Cancel registrations with a server (lifetime 0 in an UPDATE); see
   * {@link HipHost.unregisterFrom}. Resolves with the server's answer, or undefined when there is
   * no association to cancel on (nothing is registered then either, as far as we can tell).
   */
  async unregister(serverHit: string, type?: RegisterOptions['type']): Promise<HostRegistrationEvent | undefined> {
    const hit = canonicalHit(serverHit);
    this.stopRenewal(hit);
    const types = type === undefined ? this.heldTypes(hit) : registrationTypes(type);
    if (types.length === 0) return undefined;
    return this.viaUpdate(hit, { types, lifetimeS: 0 });
  }

  /** Stop every renewal (host shutdown). */
  close(): void {
    this.closed = true;
    for (const t of this.renewals.values()) clearTimeout(t);
    this.renewals.clear();
  }

  /** By UPDATE if we are associated with the server, else (or if the UPDATE goes unanswered) by a base exchange. */
  private async exchange(hit: string, req: RegistrationRequest): Promise<HostRegistrationEvent> {
    const byUpdate = await this.viaUpdate(hit, req);
    if (byUpdate && byUpdate.status !== 'failed') return byUpdate;
    // No association, one still in its BEX, or the server no longer knows it (restarted): start over.
    if (this.host.engine.association(parseHit(hit))) {
      this.host.engine.abandon(parseHit(hit), 'timeout');
      this.host.pump();
    }
    const answer = this.nextAnswer(hit);
    try {
      await this.host.connect(hit, { register: req });
      return await answer.promise;
    } finally {
      answer.cancel();
    }
  }

  private async viaUpdate(hit: string, req: RegistrationRequest): Promise<HostRegistrationEvent | undefined> {
    const answer = this.nextAnswer(hit);
    if (!this.host.engine.register(parseHit(hit), req, this.host.now())) {
      answer.cancel();
      return undefined;
    }
    this.host.pump();
    try {
      return await answer.promise;
    } finally {
      answer.cancel();
    }
  }

  private nextAnswer(hit: string): { promise: Promise<HostRegistrationEvent>; cancel: () => void } {
    let on: ((e: HostRegistrationEvent) => void) | undefined;
    const promise = new Promise<HostRegistrationEvent>((resolve) => {
      on = (e) => {
        if (e.role === 'requester' && e.peerHit === hit) resolve(e);
      };
      this.host.on('registration', on);
    });
    return { promise, cancel: () => this.host.off('registration', on!) };
  }

  private heldTypes(hit: string): number[] {
    const held = this.host.engine.registry.heldRegistrations(this.host.now()).filter((r) => canonicalHit(r.peerHit) === hit);
    return [...new Set(held.flatMap((r) => r.types))];
  }

  private stopRenewal(hit: string): void {
    clearTimeout(this.renewals.get(hit));
    this.renewals.delete(hit);
    this.servers.delete(hit);
  }

  private renewAfter(server: RegisterOptions, hit: string, delayMs: number, lifetimeS: number): void {
    clearTimeout(this.renewals.get(hit));
    this.servers.set(hit, { server, lifetimeS });
    const t = setTimeout(() => {
      this.renewals.delete(hit);
      this.register(server).catch((e: unknown) => {
        if (this.closed) return;
        const err = e instanceof HipError ? e : new HipError('ERR_HIP_REGISTRATION_FAILED', String(e));
        // A refusal was reported by the engine's own event (status 'refused'); a failure to
        // reach the server at all is reported here, and tried again: it may be restarting.
        if (err.code === 'ERR_HIP_REGISTRATION_FAILED') return;
        this.host.emit('registration', { role: 'requester', peerHit: hit, status: 'failed', granted: [], lifetime: 0, failed: [], error: err.message });
        if (!this.renewals.has(hit)) this.renewAfter(server, hit, Math.min(MAX_RETRY_MS, Math.max(1000, lifetimeS * 200)), lifetimeS);
      });
    }, delayMs);
    t.unref();
    this.renewals.set(hit, t);
  }
}
