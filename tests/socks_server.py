#!/usr/bin/env python3
"""socks_server.py - a small SOCKS5 server for the tests (RFC 1928, RFC 1929).

Listens on 127.0.0.1 (or --listen ADDR:PORT), prints its port on stdout, and
for every CONNECT either relays to the target (the default) or answers with
the reply code given by --rep, or (--mute) never answers.  --user/--password demand an RFC 1929 login.
--map NAME=ADDR resolves a domain-name target here, as a remote resolver would
(names not mapped get reply 4, host unreachable); no real DNS is used.  Each
request is logged to --log as "ATYP HOST PORT" lines.
"""
import argparse
import select
import socket
import struct
import sys
import threading


def recv_exact(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            raise ConnectionError("short read")
        data += chunk
    return data


def pump(a, b):
    try:
        while True:
            r, _, _ = select.select([a, b], [], [], 60)
            if not r:
                return
            for s in r:
                d = s.recv(65536)
                if not d:
                    return
                (b if s is a else a).sendall(d)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def reply(c, rep, bound=("0.0.0.0", 0)):
    c.sendall(struct.pack("!BBBB", 5, rep, 0, 1) + socket.inet_aton(bound[0]) + struct.pack("!H", bound[1]))


def serve(c, args, log):
    try:
        if args.mute:
            while c.recv(4096):
                pass
            return
        ver, n = recv_exact(c, 2)
        methods = recv_exact(c, n)
        want = 2 if args.user else 0
        if ver != 5 or want not in methods:
            c.sendall(b"\x05\xff")
            return
        c.sendall(bytes([5, want]))
        if want == 2:
            v, ul = recv_exact(c, 2)
            user = recv_exact(c, ul)
            (pl,) = recv_exact(c, 1)
            pw = recv_exact(c, pl)
            ok = v == 1 and user == args.user.encode() and pw == args.password.encode()
            c.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return
        ver, cmd, _, atyp = recv_exact(c, 4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, recv_exact(c, 4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, recv_exact(c, 16))
        elif atyp == 3:
            (hl,) = recv_exact(c, 1)
            host = recv_exact(c, hl).decode("ascii", "replace")
        else:
            reply(c, 8)
            return
        (port,) = struct.unpack("!H", recv_exact(c, 2))
        with open(log, "a") as f:
            f.write("%d %s %d\n" % (atyp, host, port))
        if cmd != 1:
            reply(c, 7)
            return
        if args.rep is not None:
            reply(c, args.rep)
            return
        if atyp == 3:
            if host not in args.map:
                reply(c, 4)
                return
            host = args.map[host]
        try:
            t = socket.create_connection((host, port), timeout=5)
        except ConnectionRefusedError:
            reply(c, 5)
            return
        except OSError:
            reply(c, 4)
            return
        t.settimeout(None)
        reply(c, 0, ("127.0.0.1", t.getsockname()[1]))
        pump(c, t)
    except (ConnectionError, OSError, ValueError):
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--user")
    p.add_argument("--password", default="")
    p.add_argument("--rep", type=int)
    p.add_argument("--mute", action="store_true", help="read, never answer")
    p.add_argument("--map", action="append", default=[])
    p.add_argument("--log", default="/dev/null")
    args = p.parse_args()
    args.map = dict(m.split("=", 1) for m in args.map)
    host, port = args.listen.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, args, args.log), daemon=True).start()


if __name__ == "__main__":
    main()
