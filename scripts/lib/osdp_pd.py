#!/usr/bin/env python3
"""An OSDP peripheral device (PD) for tests: libosdp's PD (PyPI `libosdp`) on a pty pair.

Creates a pty, makes it raw, links LINK to its slave side (the "serial line" optgated opens) and runs
libosdp's PD on the master side. Prints JSON lines to stdout: {"ready": ...} once the link exists, then
every command the CP sends ({"command": "led", ...}) and secure-channel changes. Reads commands from
stdin, one per line:
  card HEX BITS [wiegand|raw]   submit a card read (HEX = the bits, MSB first, padded to whole bytes)
  keys TEXT                     submit keypad keys (digits, '*', '#': sent as ASCII, '#' as 0x0D, '*' as 0x7F)
  silent / answer               stop / resume answering (the line goes quiet: the CP sees no replies)
  garbage                       write noise, a truncated frame and a CRC-broken frame onto the line
  quit
Usage: osdp_pd.py LINK ADDRESS [--key HEX [--downgrade] | --install]
  --key HEX     SCBK (16 bytes hex), secure channel enforced
  --downgrade   a man in the middle: the PD's capabilities reply (sent before the secure channel, in
                clear) is rewritten on the wire to claim no secure channel, CRC fixed up. (libosdp's PD
                itself always claims the secure channel, so the downgrade is done where an attacker would.)
  --install     install mode: accepts SCBK-D so that `optgate reader pair` can set a key
"""
import json
import os
import select
import sys
import threading
import time
import tty

from osdp import (PeripheralDevice, PDInfo, PDCapabilities, Capability, LibFlag, LogLevel, Channel, Event,
                  CardFormat)


def crc16(data):
    crc = 0x1D0F
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def downgrade(packet):
    """Rewrites an osdp_PDCAP reply to claim no secure channel (function 9 → compliance 0), CRC fixed."""
    p = bytearray(packet)
    start = 1 if p[:1] == b"\xff" else 0
    if len(p) < start + 8 or p[start] != 0x53 or p[start + 4] & 0x0C != 0x04:
        return packet  # not a plain CRC frame
    code_at = start + 5
    if p[code_at] != 0x46:
        return packet
    for at in range(code_at + 1, len(p) - 2, 3):
        if p[at] == 9:
            p[at + 1] = 0
            p[at + 2] = 0
    crc = crc16(p[start:-2])
    p[-2], p[-1] = crc & 0xFF, crc >> 8
    return bytes(p)


def say(**fields):
    print(json.dumps(fields), flush=True)


class PtyChannel(Channel):
    def __init__(self, fd):
        super().__init__()
        self.fd = fd
        self.silent = False
        self.downgrade = False

    def read(self, max_bytes):
        ready, _, _ = select.select([self.fd], [], [], 0)
        if not ready:
            return b""
        try:
            data = os.read(self.fd, max_bytes)
        except OSError:
            return b""
        return b"" if self.silent else data

    def write(self, buf):
        if self.silent:
            return len(buf)
        try:
            data = downgrade(bytes(buf)) if self.downgrade else bytes(buf)
            os.write(self.fd, data)
            return len(buf)
        except OSError:
            return 0

    def flush(self):
        pass


def main():
    link, address, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line discipline: bytes as sent
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.ttyname(slave), link)
    channel = PtyChannel(master)

    caps = [(Capability.LEDControl, 1, 1), (Capability.AudibleControl, 1, 1),
            (Capability.CheckCharacter, 1, 0), (Capability.CardDataFormat, 1, 0)]
    flags, key = [], None
    caps.append((Capability.CommunicationSecurity, 1, 1))
    if mode and mode[0] == "--key":
        key = bytes.fromhex(mode[1])
        flags = [LibFlag.EnforceSecure]
        channel.downgrade = "--downgrade" in mode
    elif mode and mode[0] == "--install":
        flags = [LibFlag.InstallMode]
    else:
        sys.exit("osdp_pd.py: say --key HEX or --install")

    def on_command(command):
        name = {v: k for k, v in vars(__import__("osdp").Command).items() if not k.startswith("_")}.get(command.get("command"))
        fields = {k: (v.hex() if isinstance(v, (bytes, bytearray)) else v) for k, v in command.items() if k != "command"}
        if name == "Keyset":
            fields = {"type": command.get("type")}  # never print key material
        say(command=(name or str(command.get("command"))).lower(), **fields)
        return 0, None

    pd = PeripheralDevice(PDInfo(address, channel, scbk=key, flags=flags), PDCapabilities(caps),
                          log_level=LogLevel.Warning, command_handler=on_command)
    pd.start()
    say(ready=os.ttyname(slave), link=link)

    def watch():
        last = None
        while True:
            state = (pd.is_online(), pd.is_sc_active())
            if state != last:
                say(online=state[0], secure=state[1])
                last = state
            time.sleep(0.05)
    threading.Thread(target=watch, daemon=True).start()

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "card":
            bits = int(words[2])
            fmt = CardFormat.Wiegand if len(words) < 4 or words[3] == "wiegand" else CardFormat.Unspecified
            pd.submit_event({"event": Event.CardRead, "reader_no": 0, "direction": 0, "length": bits,
                             "format": fmt, "data": bytes.fromhex(words[1])})
        elif words[0] == "keys":
            data = bytes(0x0D if c == "#" else 0x7F if c == "*" else ord(c) for c in words[1])
            pd.submit_event({"event": Event.KeyPress, "reader_no": 0, "data": data})
        elif words[0] == "silent":
            channel.silent = True
        elif words[0] == "answer":
            channel.silent = False
        elif words[0] == "garbage":
            noise = bytes(range(0, 256, 7)) + b"\x53\x81\x40\x00" + b"\xff\x53\x81\x08\x00\x05\x40\x12\x34"
            os.write(master, noise)
        elif words[0] == "quit":
            break
        say(done=words[0], at=time.time())
    pd.stop()


if __name__ == "__main__":
    main()
