"""The practice lab's public DNS: A records for the lab's names, all at the lab's address.

A real host's DNS points its public names at its public address; the lab's dockerd sends every
name its containers ask for (``--dns``) here, so the lab CA validates turn.hslab.test through
Traefik's published port and the acme container finds the CA, just as on a real host. Runs in
the lab's network namespace (container hslab-dns, host network) with Python's standard library
only. Other names get NXDOMAIN: the lab is offline.

    python3 dns.py LISTEN_ADDRESS NAME=ADDRESS...
"""

import socket
import struct
import sys


def answer(query: bytes, records: dict) -> bytes:
    ident, flags = struct.unpack(">HH", query[:4])
    labels, pos = [], 12
    while query[pos]:
        length = query[pos]
        labels.append(query[pos + 1:pos + 1 + length].decode("ascii").lower())
        pos += 1 + length
    qtype = struct.unpack(">H", query[pos + 1:pos + 3])[0]
    question = query[12:pos + 5]
    address = records.get(".".join(labels))
    body = b""
    if address is None:
        rcode = 3  # NXDOMAIN
    else:
        rcode = 0  # the name exists; AAAA and other types get an empty answer
        if qtype == 1:
            body = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(address)
    # QR, AA, RA, the client's RD; one question, one answer or none.
    header = struct.pack(">HHHHHH", ident, 0x8480 | (flags & 0x0100) | rcode, 1, 1 if body else 0, 0, 0)
    return header + question + body


def main() -> None:
    records = dict(entry.lower().split("=", 1) for entry in sys.argv[2:])
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((sys.argv[1], 53))
    print(f"hslab dns: answering for {', '.join(sorted(records))} on {sys.argv[1]}:53", flush=True)
    while True:
        query, peer = server.recvfrom(512)
        try:
            server.sendto(answer(query, records), peer)
        except (IndexError, UnicodeDecodeError, struct.error):
            continue  # not a query we understand: no answer, as for any garbage


if __name__ == "__main__":
    main()
