#!/usr/bin/env python3
"""A contactless card with a chosen UID, inserted into vsmartcard's virtual reader (vpcd).

vpcd (the pcscd driver from vsmartcard-vpcd) waits on TCP localhost:35963 for a virtual card; a card is
"present" while a client is connected and answers. vicc (vsmartcard-vpicc) is such a client, but its card
types have no UID: `FF CA 00 00 00` fails inside vicc (6A81, then its secure-messaging layer drops the
answer) and vpcd passes the APDU through rather than answering it. This is the smallest card that has one:
it speaks vicc's wire protocol (2-byte big-endian length + payload; a 1-byte payload is a control code:
0 power off, 1 power on, 2 reset, 4 get ATR) and answers GET DATA UID the way a PC/SC part 3 reader
does for a MIFARE card: UID + 90 00. Every other APDU gets 6D 00 (instruction not supported).

Usage: vcard.py --uid 04A1B2C3D4E5F6 [--host localhost] [--port 35963] [--seconds N]
Exits after --seconds (default: when vpcd closes the connection) or on SIGTERM.
"""
import argparse
import signal
import socket
import struct
import sys
import time

# PC/SC part 3 ATR of a MIFARE Classic 1K seen through a contactless reader.
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


def receive_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data


def send(sock, payload):
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uid", required=True, help="card UID in hex, 4 to 10 bytes")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=35963)
    parser.add_argument("--seconds", type=float, default=0, help="leave the reader after this long (0: stay)")
    args = parser.parse_args()
    uid = bytes.fromhex(args.uid)
    if not 4 <= len(uid) <= 10:
        parser.error("the UID must be 4 to 10 bytes")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection((args.host, args.port), timeout=2)
            break
        except OSError as error:
            if time.monotonic() > deadline:
                sys.exit(f"vcard: cannot reach vpcd at {args.host}:{args.port}: {error}")
            time.sleep(0.1)
    sock.settimeout(args.seconds if args.seconds > 0 else None)
    try:
        while True:
            (length,) = struct.unpack(">H", receive_exactly(sock, 2))
            message = receive_exactly(sock, length)
            if length == 1:
                if message[0] == 4:
                    send(sock, ATR)
                continue
            if message[:4] == b"\xFF\xCA\x00\x00":
                send(sock, uid + b"\x90\x00")
            else:
                send(sock, b"\x6D\x00")
    except (socket.timeout, ConnectionError):
        pass
    finally:
        sock.close()


if __name__ == "__main__":
    main()
