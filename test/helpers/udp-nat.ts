/**
 * A tiny in-process NAT on loopback for mobility tests: the inside host sends to `port`, the
 * outside target sees the NAT's external port, and `rebind()` gives the inside host a new one
 * (the old mapping is gone, as after a NAT timeout or a move to another network).
 */
import { createSocket, type Socket } from 'node:dgram';

const LO = '127.0.0.1';

/** A running NAT (see {@link startNat}). */
export interface Nat {
  /** Where the inside host sends. */
  port: number;
  /** The external port the outside host sees now. */
  externalPort(): number;
  /** A new external mapping; the old one stops working. */
  rebind(): Promise<void>;
}

function bound(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, LO, () => resolve(s));
  });
}

/**
 * One inside client, one outside `target` port on loopback; the inside socket answers the last
 * client seen. Closing its sockets is pushed onto `cleanup`.
 */
export async function startNat(target: number, cleanup: (() => Promise<void> | void)[]): Promise<Nat> {
  const inside = await bound();
  let client: { port: number } | undefined;
  let external: Socket;
  const open = async () => {
    external = await bound();
    const mine = external;
    mine.on('message', (m) => {
      if (mine === external && client) inside.send(m, client.port, LO);
    });
  };
  await open();
  inside.on('message', (m, r) => {
    client = { port: r.port };
    external.send(m, target, LO);
  });
  cleanup.push(
    () => new Promise<void>((r) => inside.close(() => r())),
    () => new Promise<void>((r) => external.close(() => r())),
  );
  return {
    port: inside.address().port,
    externalPort: () => external.address().port,
    async rebind() {
      const old = external;
      await open();
      await new Promise<void>((r) => old.close(() => r()));
    },
  };
}
