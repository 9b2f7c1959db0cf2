#!/usr/bin/env python3
"""fake_igd.py - a hostile UPnP internet gateway for the NAT lab (tests only).

usage: fake_igd.py LANADDR PORT
Answers SSDP searches on LANADDR (multicast 239.255.255.250:1900), serves a
device description and answers GetStatusInfo and GetExternalIPAddress with
strings full of terminal escape sequences, C1 controls and invalid UTF-8, as
a hostile router on the LAN could.  Runs until killed; prints "serving" once
it listens.  Only ever started inside a lab network namespace.
"""
import http.server
import socket
import struct
import sys
import threading

LAN, PORT = sys.argv[1], int(sys.argv[2])
# what a hostile router says: OSC (retitle), CSI (clear), a C1 CSI, a lone
# continuation byte, an overlong slash, a newline that would start a log line
EVIL = b"\x1b]0;owned\x07\x1b[2J\xc2\x9b31m\x80\xc0\xaf\nFAKE Disconnected"

DESC = b"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>evil</friendlyName><UDN>uuid:00000000-0000-0000-0000-000000000001</UDN>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<UDN>uuid:00000000-0000-0000-0000-000000000002</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId><controlURL>/ctl/CmnIfCfg</controlURL>
<eventSubURL>/evt/CmnIfCfg</eventSubURL><SCPDURL>/WANCfg.xml</SCPDURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<UDN>uuid:00000000-0000-0000-0000-000000000003</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL>
<eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList>
</device></deviceList></device></deviceList></device></root>
"""


def soap(action, body):
    return (b'<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            b's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            b'<u:' + action + b'Response xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">'
            + body + b'</u:' + action + b'Response></s:Body></s:Envelope>\r\n')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, data, ctype="text/xml"):
        self.send_response(200)
        self.send_header("Content-Type", ctype + '; charset="utf-8"')
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(DESC)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        act = self.headers.get("SOAPAction", "")
        if "GetStatusInfo" in act:
            self.reply(soap(b"GetStatusInfo", b"<NewConnectionStatus>" + EVIL[:60] +
                            b"</NewConnectionStatus><NewLastConnectionError>" + EVIL[:60] +
                            b"</NewLastConnectionError><NewUptime>7</NewUptime>"))
        elif "GetExternalIPAddress" in act:
            self.reply(soap(b"GetExternalIPAddress", b"<NewExternalIPAddress>11.77.0.1</NewExternalIPAddress>"))
        else:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

    def log_message(self, *args):
        pass


def ssdp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 1900))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4s", socket.inet_aton("239.255.255.250"), socket.inet_aton(LAN)))
    while True:
        data, peer = s.recvfrom(2048)
        if not data.startswith(b"M-SEARCH"):
            continue
        st = b"urn:schemas-upnp-org:device:InternetGatewayDevice:1"
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"st:"):
                st = line[3:].strip()
        s.sendto(b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: " + st +
                 b"\r\nUSN: uuid:00000000-0000-0000-0000-000000000001::" + st +
                 b"\r\nEXT:\r\nSERVER: evil/1.0 UPnP/1.1 evil/1.0\r\nLOCATION: http://" +
                 LAN.encode() + b":" + str(PORT).encode() + b"/rootDesc.xml\r\n\r\n", peer)


srv = http.server.ThreadingHTTPServer((LAN, PORT), Handler)
threading.Thread(target=ssdp, daemon=True).start()
print("serving", flush=True)
srv.serve_forever()
