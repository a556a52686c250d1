#!/usr/bin/env python3
"""A fixed-delay link between two network namespaces, for bench/netem.ts on kernels without
sch_netem: attaches to the tun device `ta` in namespace A and `tb` in namespace B (made and
addressed beforehand with `ip tuntap`), and copies every packet read from one to the other
DELAY_MS later, in order, dropping each packet with probability LOSS_PCT/100 (seeded, so runs
repeat). Loss is applied here rather than by iptables, which sees TCP's GSO super-packets
before they are cut into MTU-sized packets.

usage (as root): delay-link.py NS_A NS_B DELAY_MS LOSS_PCT [SEED]
"""
import collections, ctypes, fcntl, os, random, select, struct, sys, time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
libc = ctypes.CDLL(None, use_errno=True)


def open_tun(ns: str, name: str) -> int:
    # setns moves this (single-threaded) process; the tun fd stays bound to that namespace.
    nsfd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    if libc.setns(nsfd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    os.close(nsfd)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main() -> None:
    ns_a, ns_b, delay_ms, loss = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]) / 100
    rng = random.Random(sys.argv[5] if len(sys.argv) > 5 else "hipl")
    ta, tb = open_tun(ns_a, "ta"), open_tun(ns_b, "tb")
    delay = delay_ms / 1000
    queues = {ta: collections.deque(), tb: collections.deque()}  # packets waiting to be written to fd
    other = {ta: tb, tb: ta}
    print("ready", flush=True)
    while True:
        due = [q[0][0] for q in queues.values() if q]
        timeout = max(0.0, min(due) - time.monotonic()) if due else None
        readable, _, _ = select.select([ta, tb], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            q = queues[other[fd]]
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if rng.random() >= loss:
                    q.append((now + delay, pkt))
        now = time.monotonic()
        for fd, q in queues.items():
            while q and q[0][0] <= now:
                try:
                    os.write(fd, q.popleft()[1])
                except OSError:
                    pass


if __name__ == "__main__":
    main()
