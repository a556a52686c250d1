/**
 * hiplSelect: the Node form of libhipl's `hipl_lib_get_sockfd()` + `select()` pattern. A
 * program waits until some of its socket ids are readable (a receive, or an accept, would not
 * wait) or writable (a stream socket is connected), then calls them.
 * @module
 */
import { Errno } from './constants.js';
import { isReadable, isWritable } from './io.js';
import { lib, type HiplSock } from './state.js';
import { CONTROL_POLL_MS, nextChange, yieldToEventLoop } from './wait.js';

/** The sets of ids to wait on (C: the `readfds` and `writefds` of select). */
export interface HiplSelectSets {
  /** Ids to wait on until readable. */
  read?: readonly number[];
  /** Ids to wait on until writable. */
  write?: readonly number[];
}

/** What {@link hiplSelect} found. */
export interface HiplSelectResult {
  /**
   * As select(2) returns: the number of ready entries (an id in both lists counts twice), 0
   * when the timeout passed, or a negative errno (`-EBADF` for an id that is not a socket,
   * `-EINVAL` for a bad timeout, `-EINTR` when the signal aborted the wait).
   */
  count: number;
  /** The readable ids. */
  read: number[];
  /** The writable ids. */
  write: number[];
}

/**
 * Wait until at least one id is ready (C: `select(maxfd + 1, &rset, &wset, NULL, timeout)` over
 * `hipl_lib_get_sockfd()` descriptors).
 *
 * Readable: a datagram, stream bytes or end of stream wait; with BEX feedback on, a received
 * HIP control packet waits for a step; a listener has a connection to accept. Writable: a
 * datagram socket always; a stream socket once connected.
 *
 * @param timeoutMs undefined or null waits without limit; 0 polls.
 * @example
 * ```ts
 * for (;;) {
 *   const ready = await hiplSelect({ read: [sender, receiver] });
 *   if (ready.read.includes(receiver)) { ... hiplRecvfrom(receiver, ...) ... }
 *   if (ready.read.includes(sender)) { ... hiplSendto(sender, ...) ... }
 * }
 * ```
 */
export async function hiplSelect(sets: HiplSelectSets, timeoutMs?: number | null, signal?: AbortSignal): Promise<HiplSelectResult> {
  const readIds = [...(sets?.read ?? [])];
  const writeIds = [...(sets?.write ?? [])];
  const fail = (code: number): HiplSelectResult => ({ count: -code, read: [], write: [] });
  if (timeoutMs !== undefined && timeoutMs !== null && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) return fail(Errno.EINVAL);
  const socks = new Set<HiplSock>();
  for (const id of [...readIds, ...writeIds]) {
    const s = lib.sockets.get(id);
    if (!s) return fail(Errno.EBADF);
    socks.add(s);
  }
  // Ready or not, let I/O run first: a loop of selects that find something ready at once (a
  // connected socket is always writable) must not starve the sockets it waits on.
  await yieldToEventLoop();
  const deadline = timeoutMs === undefined || timeoutMs === null ? Infinity : performance.now() + timeoutMs;
  let lastPoll = performance.now();
  for (;;) {
    const now = performance.now();
    const pollTick = now - lastPoll >= CONTROL_POLL_MS;
    if (pollTick) lastPoll = now;
    const read = readIds.filter((id) => {
      const s = lib.sockets.get(id);
      return s !== undefined && isReadable(s, pollTick);
    });
    const write = writeIds.filter((id) => {
      const s = lib.sockets.get(id);
      return s !== undefined && isWritable(s);
    });
    if (read.length + write.length > 0) return { count: read.length + write.length, read, write };
    for (const s of socks) if (s.closed) return fail(Errno.EBADF);
    if (signal?.aborted) return fail(Errno.EINTR);
    const left = deadline - performance.now();
    if (left <= 0) return { count: 0, read: [], write: [] };
    await nextChange([...socks], left, signal);
  }
}
