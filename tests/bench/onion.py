#!/usr/bin/env python3
"""onion.py - helpers for tests/bench/onion.sh (stdlib only).

  onion.py addonion DATADIR PORT TARGET [PORT TARGET]...   ADD_ONION (Detach)
        on the tor whose DataDirectory is DATADIR (control.port, cookie), one
        service with every PORT leading to its TARGET: prints the service id
  onion.py streams DATADIR                 the open streams of that tor: the
        circuit id and the target of each, one a line
  onion.py echo PORT                      an echo server on 127.0.0.1:PORT
  onion.py rtt SOCKSPORT HOST PORT N      N one-byte round trips through
        SOCKS5 to an echo server: prints the times in ms, one a line
  onion.py chat FIFO OUT FP N             N messages one at a time through a
        headless confab (commands to FIFO, events in OUT): prints each
        sent -> delivered time in ms
"""
import os
import socket
import struct
import sys
import time


def control(datadir):
    port = open(os.path.join(datadir, "control.port")).read().strip().split(":")[-1]
    s = socket.create_connection(("127.0.0.1", int(port)))
    f = s.makefile("rwb")
    cookie = open(os.path.join(datadir, "control_auth_cookie"), "rb").read()
    f.write(b"AUTHENTICATE " + cookie.hex().encode() + b"\r\n")
    f.flush()
    if not f.readline().startswith(b"250"):
        sys.exit("control port refused the cookie")
    return s, f


def addonion(datadir, *pairs):
    s, f = control(datadir)
    ports = " ".join("Port=%s,%s" % (pairs[i], pairs[i + 1]) for i in range(0, len(pairs) - 1, 2))
    f.write(("ADD_ONION NEW:ED25519-V3 Flags=Detach,DiscardPK %s\r\n" % ports).encode())
    f.flush()
    while True:
        line = f.readline().decode().strip()
        if line.startswith("250-ServiceID="):
            print(line.split("=", 1)[1])
        if line.startswith("250 ") or not line.startswith("250"):
            break


def streams(datadir):
    s, f = control(datadir)
    f.write(b"GETINFO stream-status\r\n")
    f.flush()
    while True:
        line = f.readline().decode().strip()
        if line.startswith("250 ") or not line.startswith(("250", ".")) and not line[:1].isdigit():
            break
        w = line.split("=", 1)[-1].split()
        if len(w) >= 4 and w[1] == "SUCCEEDED":
            print(w[2], w[3])


def echo(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(port)))
    srv.listen(4)
    while True:
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
        c.close()


def socks(sport, host, port):
    s = socket.create_connection(("127.0.0.1", int(sport)))
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        sys.exit("SOCKS: no method")
    h = host.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", int(port)))
    r = s.recv(10)
    if len(r) < 2 or r[1] != 0:
        sys.exit("SOCKS: reply %r" % r)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rtt(sport, host, port, n):
    s = socks(sport, host, port)
    for _ in range(int(n)):
        t = time.monotonic()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            sys.exit("echo: lost")
        print("%.3f" % ((time.monotonic() - t) * 1000))


def chat(fifo, out, fp, n):
    cmd = open(fifo, "w")
    ev = open(out)
    ev.seek(0, 2)
    buf = ""
    for i in range(int(n)):
        text = "rtt %d %f" % (i, time.time())
        t = time.monotonic()
        cmd.write("/msg %s %s\n" % (fp, text))
        cmd.flush()
        mid = None
        while True:
            line = ev.readline()
            if not line:
                time.sleep(0.0005)
                continue
            buf += line
            if not line.endswith("\n"):
                continue
            line, buf = buf, ""
            if mid is None and '"event":"sent"' in line:
                mid = line.split('"id":"')[1].split('"')[0]
            elif mid is not None and '"event":"delivered"' in line and mid in line:
                print("%.3f" % ((time.monotonic() - t) * 1000))
                break


cmds = {"addonion": addonion, "streams": streams, "echo": echo, "rtt": rtt, "chat": chat}
cmds[sys.argv[1]](*sys.argv[2:])
