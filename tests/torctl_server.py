#!/usr/bin/env python3
"""torctl_server.py MODE DIR: a fake Tor control port on 127.0.0.1 for
t_torctl.sh.  Prints its port, then answers one controller at a time as
MODE says: "good" (SAFECOOKIE, ADD_ONION, then HS_DESC UPLOADED), or a way
to be wrong: "lf" (a line without CR), "long" (a 5000-byte line), "escape"
(an ESC byte), "badhash" (a SERVERHASH that does not match the cookie),
"refuse" (AUTHENTICATE refused), "twocodes" (a reply mixing 250 and 550),
"close" (hang up after PROTOCOLINFO).  Every command line received is
appended to DIR/commands."""
import hashlib
import hmac
import os
import socket
import sys

mode, d = sys.argv[1], sys.argv[2]
cookie_path = os.path.join(d, "control_auth_cookie")
cookie = os.urandom(32)
with open(cookie_path, "wb") as f:
    f.write(cookie)
SID = "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd"
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
print(srv.getsockname()[1], flush=True)


def serve(c):
    f = c.makefile("rb")
    cnonce = b""
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode(errors="replace").rstrip("\r\n")
        with open(os.path.join(d, "commands"), "a") as log:
            log.write(cmd + "\n")
        word = cmd.split(" ")[0]
        if word == "PROTOCOLINFO":
            if mode == "lf":
                c.sendall(b"250-PROTOCOLINFO 1\n250 OK\n")
                continue
            if mode == "long":
                c.sendall(b"250-" + b"A" * 5000 + b"\r\n250 OK\r\n")
                continue
            if mode == "escape":
                c.sendall(b"250-PROTOCOLINFO 1\x1b[31m\r\n250 OK\r\n")
                continue
            if mode == "twocodes":
                c.sendall(b"250-PROTOCOLINFO 1\r\n550 OK\r\n")
                continue
            c.sendall(('250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="%s"\r\n'
                       '250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n' % cookie_path).encode())
            if mode == "close":
                c.close()
                return
        elif word == "AUTHCHALLENGE":
            cnonce = bytes.fromhex(cmd.split(" ")[2])
            snonce = os.urandom(32)
            sh = hmac.new(b"Tor safe cookie authentication server-to-controller hash",
                          cookie + cnonce + snonce, hashlib.sha256).hexdigest()
            if mode == "badhash":
                sh = "00" * 32
            c.sendall(("250 AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=%s\r\n" % (sh, snonce.hex())).encode())
            want = hmac.new(b"Tor safe cookie authentication controller-to-server hash",
                            cookie + cnonce + snonce, hashlib.sha256).hexdigest()
        elif word == "AUTHENTICATE":
            if mode == "refuse" or cmd.split(" ")[1].lower() != want:
                c.sendall(b"515 Authentication failed: Safe cookie response did not match expected value.\r\n")
                c.close()
                return
            c.sendall(b"250 OK\r\n")
        elif word in ("TAKEOWNERSHIP", "SETEVENTS"):
            c.sendall(b"250 OK\r\n")
        elif word == "GETINFO":
            c.sendall(b'250-net/listeners/socks="127.0.0.1:9"\r\n'
                      b'250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"\r\n250 OK\r\n')
        elif word == "ADD_ONION":
            out = "250-ServiceID=%s\r\n" % SID
            if cmd.split(" ")[1] == "NEW:ED25519-V3":
                out += "250-PrivateKey=ED25519-V3:a2V5a2V5a2V5\r\n"
            out += "250 OK\r\n650 HS_DESC UPLOAD %s UNKNOWN $AAAA~r1 x\r\n" % SID
            out += "650 HS_DESC UPLOADED %s UNKNOWN $AAAA~r1\r\n" % SID
            c.sendall(out.encode())
        else:
            c.sendall(b'510 Unrecognized command "' + word.encode() + b'"\r\n')


while True:
    conn, _ = srv.accept()
    try:
        serve(conn)
    except OSError:
        pass
    conn.close()
