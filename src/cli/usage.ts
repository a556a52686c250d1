/**
 * The `hipl` command's help text.
 * @module
 */

/** Help for `hipl --help`. */
export const USAGE = `hipl: the Host Identity Protocol from the command line

usage:
  hipl keygen [--algo p256|p384|rsa|ed25519] [--bits N] [--out FILE] [--force]
        make a host identity; without --out the PEM key goes to standard output
  hipl hit [KEYFILE|-] [--libhipl-cleartext]
        print the HIT of a key (default: the file named by HIPL_KEY)
  hipl listen [--udp|--tcp] [--port N] [--address IP] [options]
        wait for one peer; its data to standard output, standard input to it
  hipl connect HIT@ADDR:PORT [--udp|--tcp] [options]
        run the base exchange with HIT, then standard input to it, its data to standard output
        (IPv6: HIT@[::1]:PORT; or HIT or a hosts-file NAME with --port and --peer/--hosts). To reach a host behind a
        NAT through its rendezvous server, give the server's address: HIT@RVS-ADDR:10500
  hipl rvs --whitelist FILE|--open [--port N] [--address IP] [--key FILE]
           [--min-lifetime S] [--max-lifetime S] [--rate N] [--relay [--relay-bytes N]]
        run a rendezvous server (RFC 8004): whitelisted hosts (one HIT per line in FILE) register,
        and I1s for their HITs are forwarded to them, at most N per second per client
        (default 20); lifetimes granted within S..S seconds (default 60..3600); prints its HIT,
        logs each registration, stops on Ctrl-C with its counters. With --relay it is also a HIP
        relay (RFC 9028) for hosts behind any NAT: it relays all their HIP packets and, when no
        direct path can be punched, their ESP, at most N bytes per second per client
        (--relay-bytes, default 4000000); only whitelisted, registered hosts are served
  hipl relay --whitelist FILE|--open [rvs options] [--relay-bytes N]
        the same as hipl rvs --relay

options of listen and connect:
  --key FILE        identity to use, created (mode 0600) if FILE does not exist
                    (default: HIPL_KEY, else a new one for this run)
  --peer HIT=ADDR   where a HIT is (repeatable; with several for one HIT, each round of
                    I1s goes to each, e.g. two rendezvous servers: the first R1 wins)
  --hosts FILE      HIPL hosts file: "HIT name" and "IP name" lines
  --libhipl-cleartext
                    libhipl's mode: HIPv1, RSA key, data in CLEAR TEXT (INSECURE)
  --pcap FILE       record the HIP and ESP packets for Wireshark
  --keylog FILE     append the ESP keys in Wireshark's esp_sa format
  --nat             NAT mode (hipconf daemon nat plain-udp): listen on UDP 10500, keepalives
                    every 15 s on an idle path, moves announced to the peer
  --verbose         show each base exchange step, and HIP packets dropped (e.g. an I1
                    for another HIT, or refused by policy)
  --timeout MS      give up a base exchange after MS (connect; default 20000)
  --wait MS         after the end of input, wait MS for replies before closing (default 200)
  --rvs HIT@ADDR:PORT  (listen, UDP) register with that rendezvous server first and stay
                    registered, so initiators can reach this host through it from behind a NAT
                    (renewed by UPDATE before it ends; a failed renewal is logged and retried,
                    and a restarted server is registered with again)
  --relay HIT@ADDR:PORT  (listen, UDP) register with that HIP relay instead: initiators (behind
                    NATs too) reach this host through it; a direct path is punched when the
                    NATs allow it, else data stays relayed

Inside ESP, data goes to HIP port 7, not the carrier port (in --libhipl-cleartext
mode there is no ESP and the carrier port is the data port, as in libhipl).

exit codes: 0 done, 1 usage, 2 base exchange failed, 3 key file, 4 network,
            5 association or stream broken, 130 interrupted
`;
