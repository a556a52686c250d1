/**
 * Resuming an association whose TCP carrier broke (a NAT dropped the connection, a host moved):
 * the side that dialed the connection dials the same verified address again and announces itself
 * with an UPDATE over the new connection; the side that accepted it waits a while for that, and
 * the peer's return-routability check moves it to the new connection. Streams survive: their
 * segments lost with the old connection are retransmitted on the new one.
 * @module
 */
import { tcpConnect, type CarrierPeer, type TcpConnection } from '../transport/index.js';

/** How long a broken TCP carrier may take to come back before its associations end. Default. */
export const TCP_RESUME_MS = 15_000;
/** Pause between two dial attempts. */
const REDIAL_PAUSE_MS = 500;

/**
 * Dial `remote` again until a connection is up, `budgetMs` has passed, or `signal` aborts.
 * Resolves the new connection, or undefined.
 */
export async function redial(remote: CarrierPeer, budgetMs: number, signal: AbortSignal): Promise<TcpConnection | undefined> {
  const deadline = performance.now() + budgetMs;
  while (!signal.aborted) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    try {
      return await tcpConnect({ address: remote.address, port: remote.port, framing: 'hipl', timeoutMs: Math.max(1, Math.min(left, 5000)), signal });
    } catch {
      if (signal.aborted) return undefined;
      await new Promise<void>((r) => setTimeout(r, Math.min(REDIAL_PAUSE_MS, Math.max(0, deadline - performance.now()))).unref());
    }
  }
  return undefined;
}
