#!/usr/bin/env python3
"""tor_fwd.py NETNS... -- PORT...: the lab's relays, seen from namespaces that
have nothing but loopback.  Run inside the Tor lab's namespace: for every
namespace file given (/run/netns/NAME) it listens on 127.0.0.1:PORT inside
that namespace, and carries each connection to 127.0.0.1:PORT in the lab's.
Only these TCP ports get through: the namespaces have no route to each other
or anywhere else.  Prints "ready" once every listener is up."""
import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def enter(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def pump(src, dst):
    """Copy src to dst; at src's end, end dst's writing half."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, port):
    while True:
        conn, _ = listener.accept()
        try:
            up = socket.create_connection(("127.0.0.1", port), timeout=5)
            up.settimeout(None)
        except OSError:
            conn.close()
            continue
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()
        threading.Thread(target=pump, args=(up, conn), daemon=True).start()


def main():
    cut = sys.argv.index("--")
    spaces, ports = sys.argv[1:cut], [int(p) for p in sys.argv[cut + 1:]]
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    listeners = []
    for path in spaces:
        fd = os.open(path, os.O_RDONLY)
        enter(fd)   # sockets made now belong to that namespace for good
        os.close(fd)
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(64)
            listeners.append((s, port))
    enter(home)     # the threads, and the sockets they connect, are the lab's
    for s, port in listeners:
        threading.Thread(target=serve, args=(s, port), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


main()
