#!/usr/bin/env python3
# discovery.py - LAN discovery figures, in network namespaces (run by
# discovery.sh as root).  Standard library only.
#
#   discovery.py CONFAB WORKDIR PREFIX [--runs N] [--rest SECS] [--settle SECS]
#                [--sizes 2,10,50] [--big 50]
#
# Every host is a namespace PREFIXhN joined by a veth to the bridge br0 of the
# switch namespace PREFIXsw; nothing touches the machine's own namespace.
# Reports:
#   1. the 2-peer time to mutual discovery: median (and spread) of N runs,
#      from the moment the second host is started;
#   2. for the big segment (50 hosts, all started at once): the time until
#      every host lists all the others, from the first and from the last start,
#      and beacon packets per second on the bridge during the start;
#   3. beacon packets per second on the bridge at rest for each size.
# Packets are counted from a tcpdump capture on br0 (promiscuous, so the
# unicast answers between ports are seen too); everything UDP on the segment
# is confab's, as nothing else runs there.
import json
import os
import selectors
import signal
import statistics
import subprocess
import sys
import time


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True).stdout


class Lab:
    """A switch namespace with a bridge and host namespaces on it."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.sw = prefix + "sw"
        self.hosts = []
        sh("ip", "netns", "add", self.sw)
        sh("ip", "-n", self.sw, "link", "set", "lo", "up")
        sh("ip", "-n", self.sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.sw, "link", "set", "br0", "up")

    def host(self, i):
        ns = "%sh%d" % (self.prefix, i)
        sh("ip", "netns", "add", ns)
        self.hosts.append(ns)
        sh("ip", "netns", "exec", ns, "sysctl", "-qw",
           "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        port = "p%d" % i
        sh("ip", "-n", self.sw, "link", "add", port, "type", "veth",
           "peer", "name", "eth0", "netns", ns)
        sh("ip", "-n", self.sw, "link", "set", port, "master", "br0", "up")
        sh("ip", "-n", ns, "addr", "add", "10.66.%d.%d/16" % (i // 250, i % 250 + 1), "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        return ns

    def destroy(self):
        for ns in self.hosts + [self.sw]:
            for pid in sh("ip", "netns", "pids", ns, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)
        self.hosts = []


class Host:
    """One headless confab inside a namespace."""

    def __init__(self, confab, work, ns, name, extra):
        home = os.path.join(work, name)
        os.makedirs(home, exist_ok=True)
        self.name = name
        self.err = open(os.path.join(work, name + ".err"), "ab")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, confab, "--headless", "--home", home,
             "--nick", name, "--no-nat", "--log", os.path.join(work, name + ".log")] + extra,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, bufsize=0)
        with open(os.path.join(work, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        self.rfd = self.proc.stdout.fileno()
        os.set_blocking(self.rfd, False)
        self.rbuf = b""
        self.fp = None
        self.listed = {}     # fingerprint -> monotonic time first listed

    def stop(self, clean=True):
        if self.proc.poll() is None:
            if clean:
                self.proc.stdin.close()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            else:
                self.proc.kill()
        self.proc.wait()
        self.err.close()


class Group:
    """Reads every host's events in one select loop, stamping arrival times."""

    def __init__(self, confab, work, extra):
        self.confab, self.work, self.extra = confab, work, extra
        self.hosts = []
        self.sel = selectors.DefaultSelector()

    def start(self, ns, name):
        h = Host(self.confab, self.work, ns, name, self.extra)
        self.hosts.append(h)
        self.sel.register(h.rfd, selectors.EVENT_READ, h)
        return h

    def pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            h = key.data
            try:
                chunk = os.read(h.rfd, 1 << 20)
            except BlockingIOError:
                continue
            t = time.monotonic()
            if not chunk:
                self.sel.unregister(h.rfd)
                continue
            lines = (h.rbuf + chunk).split(b"\n")
            h.rbuf = lines.pop()
            for line in lines:
                ev = json.loads(line)
                if ev.get("event") == "ready":
                    h.fp = ev["fingerprint"]
                elif ev.get("event") == "peer" and ev.get("state") in ("discovered", "online"):
                    h.listed.setdefault(ev["fingerprint"], t)

    def until(self, cond, secs, what):
        deadline = time.monotonic() + secs
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit("bench: timed out waiting for " + what)
            for h in self.hosts:
                if h.proc.poll() is not None:
                    with open(os.path.join(self.work, h.name + ".err"), "rb") as f:
                        err = f.read()[-500:].decode(errors="replace")
                    raise SystemExit("bench: %s exited (%d): %s" % (h.name, h.proc.returncode, err))
            self.pump(min(left, 0.2))

    def complete(self):
        fps = [h.fp for h in self.hosts]
        if None in fps:
            return False
        return all(all(f in h.listed for f in fps if f != h.fp) for h in self.hosts)

    def complete_at(self):
        return max(max(t for f, t in h.listed.items() if f != h.fp) for h in self.hosts)

    def stop(self, clean=True):
        for h in self.hosts:
            try:
                self.sel.unregister(h.rfd)
            except (KeyError, ValueError):
                pass
            h.stop(clean)
        self.hosts = []


class Capture:
    """tcpdump on the bridge into a file."""

    def __init__(self, lab, path):
        self.path = path
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.sw, "tcpdump", "-i", "br0", "-n", "-U", "-s", "128",
             "-w", path, "udp"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # tcpdump says "listening on" once the capture runs
        line = self.proc.stderr.readline()
        if b"listening" not in line:
            raise SystemExit("bench: tcpdump did not start: %r" % line)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait()

    def packets(self):
        """(time, to_discovery_port) for every UDP packet captured."""
        out = sh("tcpdump", "-r", self.path, "-n", "-tt", "udp", check=False)
        pk = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 5:
                continue
            dst = parts[4].rstrip(":")
            pk.append((float(parts[0]), dst.endswith(".7470")))
        return pk


def rate(pk, t0, t1):
    n = sum(1 for t, _ in pk if t0 <= t < t1)
    return n / (t1 - t0)


def two_peer_runs(confab, work, prefix, runs):
    lab = Lab(prefix + "t")
    try:
        ns = [lab.host(1), lab.host(2)]
        times = []
        for r in range(runs):
            g = Group(confab, os.path.join(work, "two%d" % r), [])
            os.makedirs(g.work)
            a = g.start(ns[0], "a")
            g.until(lambda: a.fp is not None, 10, "a ready")
            time.sleep(0.3)
            b = g.start(ns[1], "b")
            g.until(g.complete, 10, "two peers listing each other")
            times.append((g.complete_at() - b.t_start) * 1000)
            g.stop()
        return times
    finally:
        lab.destroy()


def segment(confab, work, prefix, n, rest, settle, startup_window):
    """n hosts started at once: discovery time, start-up and at-rest rates."""
    lab = Lab(prefix + "s%d" % n)
    try:
        ns = [lab.host(i + 1) for i in range(n)]
        cap = Capture(lab, os.path.join(work, "seg%d.pcap" % n))
        g = Group(confab, os.path.join(work, "seg%d" % n), [])
        os.makedirs(g.work)
        wall0 = time.time()
        t_first = time.monotonic()
        for i, s in enumerate(ns):
            g.start(s, "h%d" % (i + 1))
        t_last = time.monotonic()
        g.until(g.complete, 60, "%d hosts listing each other" % n)
        done = g.complete_at()
        # let the start settle, then measure at rest
        end_settle = t_first + settle
        while time.monotonic() < end_settle:
            g.pump(0.5)
        rest0 = time.time()
        end_rest = time.monotonic() + rest
        while time.monotonic() < end_rest:
            g.pump(0.5)
        rest1 = time.time()
        cap.stop()
        pk = cap.packets()
        res = {
            "hosts": n,
            "spawn_s": t_last - t_first,
            "complete_from_first_ms": (done - t_first) * 1000,
            "complete_from_last_ms": (done - t_last) * 1000,
            "start_pps": rate(pk, wall0, wall0 + startup_window),
            "start_peak_1s": max(rate(pk, wall0 + k, wall0 + k + 1) for k in range(startup_window)),
            "start_packets": sum(1 for t, _ in pk if wall0 <= t < wall0 + startup_window),
            "start_group_packets": sum(1 for t, m in pk if wall0 <= t < wall0 + startup_window and m),
            "rest_pps": rate(pk, rest0, rest1),
            "rest_group_pps": sum(1 for t, m in pk if rest0 <= t < rest1 and m) / (rest1 - rest0),
            "rest_seconds": rest1 - rest0,
        }
        g.stop()
        return res
    finally:
        lab.destroy()


def main():
    args = sys.argv[1:]
    confab, work, prefix = args[0], args[1], args[2]
    opts = {"--runs": "20", "--rest": "150", "--settle": "60", "--sizes": "2,10,50", "--big": "50"}
    i = 3
    while i < len(args):
        opts[args[i]] = args[i + 1]
        i += 2
    runs, rest, settle = int(opts["--runs"]), float(opts["--rest"]), float(opts["--settle"])
    sizes = [int(x) for x in opts["--sizes"].split(",") if x]
    big = int(opts["--big"])

    if runs > 0:
        t = two_peer_runs(confab, work, prefix, runs)
        t.sort()
        print("2 peers, time to mutual discovery from the second start, %d runs: "
              "median %.0f ms, min %.0f, max %.0f" % (runs, statistics.median(t), t[0], t[-1]))
        sys.stdout.flush()
    for n in sorted(set(sizes + ([big] if big else []))):
        r = segment(confab, work, prefix, n, rest, settle, 10)
        if n == big:
            print("%d hosts started at once (spawning took %.2f s): every host lists all %d others "
                  "%.0f ms after the first start, %.0f ms after the last"
                  % (n, r["spawn_s"], n - 1, r["complete_from_first_ms"], r["complete_from_last_ms"]))
            print("%d hosts, start: %d UDP packets on the bridge in the first 10 s, %d of them to the "
                  "groups/broadcast, the rest unicast answers (%.1f/s; busiest second %.0f)"
                  % (n, r["start_packets"], r["start_group_packets"], r["start_pps"], r["start_peak_1s"]))
        print("%d hosts at rest: %.2f beacon packets/s on the bridge (%.2f/s to the groups/broadcast), "
              "over %.0f s after %.0f s of settling" % (n, r["rest_pps"], r["rest_group_pps"],
                                                        r["rest_seconds"], settle))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
