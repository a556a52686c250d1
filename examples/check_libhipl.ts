/**
 * A port of HIPL's test/check_libhipl.c: the libhipl unit test, call for call, on hipl's
 * libhipl-shaped API.
 *
 * Two cases run in one process, each with BEX feedback on: a UDP case and a TCP case. The sender
 * is bound to 127.0.0.1:22345, the receiver to 127.0.0.1:22300; the peer's HIT is mapped to
 * 127.0.0.1 with hiplAddPeerInfo. The first send must resolve -EWAITBEX; then a select loop
 * drives the base exchange one packet per call until "Hello Sailor!" arrives at the receiver
 * with the sender's HIT and port.
 *
 * Differences from the C test, on purpose:
 * - select(2) over hipl_lib_get_sockfd() descriptors becomes `hiplSelect` over the ids.
 * - C's errno after hipl_connect/hipl_accept becomes the negative return value.
 * - libhipl's test uses the one default HIT at both ends. hipl refuses a base exchange with its
 *   own HIT, so the receiver has an identity of its own, and the receiver checks the peer HIT it
 *   reports against the sender's (default) HIT instead of its own.
 * - A send that resolves -EWAITBEX or -EBEXESTABLISHED sends nothing, as in libhipl. In the C
 *   test both ends share one HIT, so one host association: the receiver's step that completes
 *   it also completes the sender's, and the sender's next send (woken by the R2 it never reads)
 *   carries the data. With two identities the sender's send that processes the R2 resolves
 *   -EBEXESTABLISHED, so this port sends once more after it, as any libhipl program talking to
 *   another host must.
 * - The protocol is HIPv2 with ESP-protected data (libhipl: HIPv1, data in clear). Run with
 *   `--libhipl-cleartext` for libhipl's HIPv1 profile (RSA identities, clear-text data).
 *
 * Run: `npm run example` (or `npx tsx examples/check_libhipl.ts`). Exits 0 only if both cases pass.
 */
import {
  AF_INET,
  EBEXESTABLISHED,
  Errno,
  EWAITBEX,
  HIPL_LIB_LOG_INFO,
  HIPL_LIB_LOG_NONE,
  HostIdentity,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DGRAM,
  SOCK_STREAM,
  hiplAccept,
  hiplAddPeerInfo,
  hiplBind,
  hiplClose,
  hiplConnect,
  hiplGetDefaultHit,
  hiplLibGetSockfd,
  hiplLibInitAll,
  hiplLibSetBexFeedback,
  hiplLibSetNonblock,
  hiplListen,
  hiplRecvfrom,
  hiplSelect,
  hiplSendto,
  hiplSocket,
  type HiplPeer,
} from '../src/index.js';

const LO_IP = '127.0.0.1';
const TEST_MSG = 'Hello Sailor!';
const SEND_PORT = 22345;
const RECV_PORT = 22300;
const CASE_TIMEOUT_MS = 30_000;

// (--v1 is the old name of --libhipl-cleartext)
const v1 = process.argv.includes('--libhipl-cleartext') || process.argv.includes('--v1');
const verbose = process.argv.includes('--verbose');

let peername = '';
let senderHit = '';
let sender = 0;
let receiver = 0;

/** check's fail_if: a failed condition ends the case with a message. */
class CaseFailure extends Error {}
function failIf(cond: boolean, msg: string): void {
  if (cond) throw new CaseFailure(msg);
}
function fail(msg: string): never {
  throw new CaseFailure(msg);
}

async function testLibhiplLoInit(proto: number): Promise<void> {
  if ((await hiplLibInitAll(verbose ? HIPL_LIB_LOG_INFO : HIPL_LIB_LOG_NONE, { libhiplClearText: v1 })) < 0) fail('hipl_lib_init_all');

  // C: hip_get_default_hit(&lo_hit). Here the sender keeps the default identity and the
  // receiver gets its own (see the header comment); the sender sends to the receiver's HIT.
  const receiverIdentity = HostIdentity.generate(v1 ? { algorithm: 'rsa', rsaBits: 2048 } : {});
  peername = receiverIdentity.hitString(v1 ? 1 : 2);
  senderHit = hiplGetDefaultHit();
  failIf((await hiplAddPeerInfo(peername, LO_IP)) < 0, 'Failed to insert peer info');

  const sendAddr = { family: AF_INET, address: LO_IP, port: SEND_PORT };
  const recvAddr = { family: AF_INET, address: LO_IP, port: RECV_PORT };

  if (proto === IPPROTO_TCP) {
    sender = await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    receiver = await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, { identity: receiverIdentity });
  } else if (proto === IPPROTO_UDP) {
    sender = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    receiver = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, { identity: receiverIdentity });
  }
  failIf(sender <= 0 || receiver <= 0, 'hipl_socket');

  if ((await hiplBind(sender, sendAddr)) < 0) fail('hipl_bind() for sender');
  if ((await hiplBind(receiver, recvAddr)) < 0) fail('hipl_bind() for receiver');

  hiplLibSetBexFeedback(true);
}

async function testLibhiplLoMainLoop(sendHid: number, recvHid: number): Promise<void> {
  const peer: HiplPeer = { hit: '', port: 0 };
  const buf = new Uint8Array(1024);
  const msgLen = TEST_MSG.length;

  // trigger BEX
  let ret = await hiplSendto(sendHid, TEST_MSG, msgLen, 0, peername, RECV_PORT);
  failIf(ret !== -EWAITBEX, `first hipl_sendto() returned ${ret}, not -EWAITBEX`);

  for (;;) {
    const rset = await hiplSelect({ read: [hiplLibGetSockfd(sendHid), hiplLibGetSockfd(recvHid)] });
    failIf(rset.count < 0, `select() returned ${rset.count}`);

    if (rset.read.includes(hiplLibGetSockfd(recvHid))) {
      ret = await hiplRecvfrom(recvHid, buf, 1024, 0, peer);
      failIf(ret < 0 && ret !== -EWAITBEX && ret !== -EBEXESTABLISHED, `hipl_recvfrom() returned ${ret}`);
      // The sends that resolved -EWAITBEX / -EBEXESTABLISHED sent nothing: one copy arrives.
      failIf(ret > 0 && ret !== msgLen, `hipl_recvfrom() returned ${ret} bytes, not ${msgLen}`);

      if (ret > 0) {
        const text = new TextDecoder().decode(buf.subarray(0, ret));
        failIf(text !== TEST_MSG, `received "${text}"`);
        failIf(peer.hit !== senderHit, `peer HIT ${peer.hit}, expected ${senderHit}`);
        failIf(peer.port !== SEND_PORT, `peer port ${peer.port}, expected ${SEND_PORT}`);
        // Finish test
        break;
      }
    }
    if (rset.read.includes(hiplLibGetSockfd(sendHid))) {
      ret = await hiplSendto(sendHid, TEST_MSG, msgLen, 0, peername, RECV_PORT);
      failIf(ret < 0 && ret !== -EWAITBEX && ret !== -EBEXESTABLISHED, `hipl_sendto() returned ${ret}`);
      // The association is up and this call sent nothing: send the message now (see above).
      if (ret === -EBEXESTABLISHED) ret = await hiplSendto(sendHid, TEST_MSG, msgLen, 0, peername, RECV_PORT);
      failIf(ret > 0 && ret !== msgLen, `hipl_sendto() returned ${ret}, not ${msgLen}`);
    }
  }

  await hiplClose(sendHid);
  await hiplClose(recvHid);
}

async function testLibhiplLoTcp(): Promise<void> {
  let recvSlave = 0;

  await testLibhiplLoInit(IPPROTO_TCP);

  // Setup TCP connection
  if ((await hiplListen(receiver, 5)) < 0) fail('hipl_listen()');
  failIf((await hiplLibSetNonblock(sender, true)) < 0, 'hipl_lib_set_nonblock(sender)');
  failIf((await hiplLibSetNonblock(receiver, true)) < 0, 'hipl_lib_set_nonblock(receiver)');
  await hiplAccept(receiver);
  await hiplConnect(sender, peername, RECV_PORT);
  while (recvSlave <= 0) {
    const set = await hiplSelect({ read: [hiplLibGetSockfd(receiver)], write: [hiplLibGetSockfd(sender)] });
    failIf(set.count < 0, `select() returned ${set.count}`);
    if (set.read.includes(hiplLibGetSockfd(receiver))) {
      if ((recvSlave = await hiplAccept(receiver)) < 0) fail(`hipl_accept() returned ${recvSlave}`);
    }
    if (set.write.includes(hiplLibGetSockfd(sender))) {
      const r = await hiplConnect(sender, peername, RECV_PORT);
      if (r < 0 && r !== -Errno.EINPROGRESS && r !== -Errno.EISCONN) fail(`hipl_connect() returned ${r}`);
    }
  }
  const r = await hiplConnect(sender, peername, RECV_PORT);
  failIf(r < 0 && r !== -Errno.EISCONN, `hipl_connect() returned ${r}`);
  failIf((await hiplLibSetNonblock(sender, false)) < 0, 'hipl_lib_set_nonblock(sender, false)');

  // Process base exchange and user data
  await testLibhiplLoMainLoop(sender, recvSlave);
  await hiplClose(receiver);
}

async function testLibhiplLoUdp(): Promise<void> {
  await testLibhiplLoInit(IPPROTO_UDP);
  await testLibhiplLoMainLoop(sender, receiver);
}

/** check's runner: each case on its own, with a time limit; the count of failures decides. */
async function run(name: string, test: () => Promise<void>): Promise<boolean> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      test(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CaseFailure(`timed out after ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
      }),
    ]);
    console.log(`PASS ${name} (${(performance.now() - started).toFixed(0)} ms)`);
    return true;
  } catch (e) {
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  } finally {
    if (timer) clearTimeout(timer);
    // Like check's forked cases, leave nothing behind for the next case.
    for (const id of [sender, receiver]) if (id > 0) await hiplClose(id);
    hiplLibSetBexFeedback(false);
    sender = 0;
    receiver = 0;
  }
}

const results = [await run('test_libhipl_lo_udp', testLibhiplLoUdp), await run('test_libhipl_lo_tcp', testLibhiplLoTcp)];
const failed = results.filter((ok) => !ok).length;
console.log(`${results.length - failed}/${results.length} passed${v1 ? ' (HIPv1)' : ''}`);
process.exit(failed === 0 ? 0 : 1);
