#!/usr/bin/env python3
# rooms.py - the room scale benchmark (issue 15), in network namespaces (run
# by rooms.sh as root).  Standard library only.
#
#   rooms.py CONFAB WORKDIR PREFIX [--members N] [--authors 5] [--rate 10]
#            [--seconds 60] [--mesh full|star] [--homes DIR] [--drain 30]
#
# N hosts, each a namespace PREFIXhI with a veth into the bridge br0 of the
# switch namespace PREFIXsw (nothing touches the machine's own namespace),
# each running one headless confab with LAN discovery on and --no-nat.
#   1. Every host waits until it lists the others (LAN discovery).
#   2. Sessions: --mesh full: every pair of hosts connects (host I calls every
#      host J > I by address), N(N-1)/2 sessions; --mesh star: only h1 (the
#      room's creator) calls the others.  Room records only travel over
#      existing sessions (PROTOCOL.md 13.6): with star, everything not
#      written by h1 is relayed by h1 (announce, pull).
#   3. h1 creates #bench, invites the N-1 others (/room invite needs the
#      peer's room key from a session, 13.1); each joins; every host waits
#      until its room lists N joined members.
#   4. The first A hosts write R messages a second in total, round robin,
#      for S seconds.  The driver stamps the moment it writes /msg to the
#      author's stdin and the moment each message event comes out of each
#      member (one monotonic clock: everything runs on this machine).
# Reports delivery (every message must reach all N-1 others, exactly once),
# median/p90/p99/max latency, packets and bytes per message on the bridge
# (all traffic entering the bridge from the hosts, the background measured
# just before subtracted), confab CPU time per message, and RSS per member
# before the room, after the joins and after the messages.
import json
import os
import selectors
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discovery import Lab, sh  # noqa: E402  (the same lab as the discovery bench)

CLK_TCK = os.sysconf("SC_CLK_TCK")
WAVE = 24   # /connect calls per host per round


class Host:
    """One headless confab in a namespace, with the room events it printed."""

    def __init__(self, confab, work, homes, ns, name, addr):
        home = os.path.join(homes, name)
        os.makedirs(home, exist_ok=True)
        self.name, self.addr = name, addr
        self.err = open(os.path.join(work, name + ".err"), "ab")
        # ip netns exec execs confab: the pid is confab's own
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, confab, "--headless", "--home", home, "--nick", name,
             "--no-nat", "--log", os.path.join(work, name + ".log")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, bufsize=0)
        with open(os.path.join(work, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        self.rfd = self.proc.stdout.fileno()
        os.set_blocking(self.rfd, False)
        self.rbuf = b""
        self.fp = None
        self.listed = set()     # fingerprints discovered or online
        self.online = set()     # fingerprints whose latest state is online
        self.invite = None      # room id of the last invitation
        self.room = {}          # room id -> latest room event
        self.got = {}           # message number -> first arrival time
        self.dups = 0
        self.sent_ids = 0
        self.errors = []

    def say(self, line):
        self.proc.stdin.write((line + "\n").encode())

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / CLK_TCK

    def event(self, ev, t):
        kind = ev.get("event")
        if kind == "ready":
            self.fp = ev["fingerprint"]
        elif kind == "peer":
            st, fp = ev.get("state"), ev.get("fingerprint")
            if st in ("discovered", "online", "connecting"):
                self.listed.add(fp)
            if st == "online":
                self.online.add(fp)
            elif st == "offline":
                self.online.discard(fp)
        elif kind == "room_invite":
            self.invite = ev["room"]
        elif kind == "room":
            self.room[ev["room"]] = ev
        elif kind == "message" and ev.get("room") and ev.get("text", "").startswith("bench-"):
            k = int(ev["text"][6:])
            if k in self.got:
                self.dups += 1
            else:
                self.got[k] = t
        elif kind == "sent" and ev.get("room"):
            self.sent_ids += 1
        elif kind == "error":
            self.errors.append(ev.get("message", ""))


class Group:
    """Every host's events in one select loop, stamped on arrival."""

    def __init__(self, confab, work, homes):
        self.confab, self.work, self.homes = confab, work, homes
        self.hosts = []
        self.sel = selectors.DefaultSelector()

    def start(self, ns, name, addr):
        h = Host(self.confab, self.work, self.homes, ns, name, addr)
        self.hosts.append(h)
        self.sel.register(h.rfd, selectors.EVENT_READ, h)
        return h

    def pump(self, timeout):
        for key, _ in self.sel.select(max(timeout, 0)):
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
                h.event(json.loads(line), t)

    def alive(self):
        for h in self.hosts:
            if h.proc.poll() is not None:
                with open(os.path.join(self.work, h.name + ".err"), "rb") as f:
                    err = f.read()[-500:].decode(errors="replace")
                raise SystemExit("bench: %s exited (%d): %s" % (h.name, h.proc.returncode, err))

    def until(self, cond, secs, what):
        t0 = time.monotonic()
        deadline = t0 + secs
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit("bench: timed out (%d s) waiting for %s" % (secs, what))
            self.alive()
            self.pump(min(left, 0.2))
        return time.monotonic() - t0

    def stop(self):
        for h in self.hosts:
            if h.proc.poll() is None:
                try:
                    h.proc.stdin.close()
                    h.proc.wait(5)
                except (subprocess.TimeoutExpired, BrokenPipeError):
                    h.proc.kill()
            h.err.close()


def bridge_counters(lab):
    """(packets, bytes) that entered the bridge from every host (rx of the switch ports)."""
    links = json.loads(sh("ip", "-n", lab.sw, "-s", "-j", "link", "show"))
    pk = by = 0
    for ln in links:
        if ln.get("master") == "br0":
            pk += ln["stats64"]["rx"]["packets"]
            by += ln["stats64"]["rx"]["bytes"]
    return pk, by


def pct(v, p):
    """The p-th percentile (nearest rank) of the sorted list v."""
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def rss_line(hosts, what):
    r = sorted((h.rss_kib(), h.name) for h in hosts)
    return "RSS per member %s: median %d KiB, max %d KiB (%s), sum %.1f MiB" % (
        what, statistics.median([k for k, _ in r]), r[-1][0], r[-1][1], sum(k for k, _ in r) / 1024.0)


def build(g, lab, n, mesh):
    """Start n hosts; discovery; the sessions of the mesh."""
    for i in range(n):
        ns = lab.host(i + 1)
        g.start(ns, "h%d" % (i + 1), "10.66.%d.%d" % ((i + 1) // 250, (i + 1) % 250 + 1))
    hs = g.hosts
    dt = g.until(lambda: all(h.fp for h in hs), 60, "every host ready")
    fps = [h.fp for h in hs]
    dt = g.until(lambda: all(len(h.listed) >= n - 1 for h in hs), 120, "discovery of every host")
    print("%d hosts: every host lists the %d others (LAN discovery) %.1f s after they were all ready"
          % (n, n - 1, dt))
    # host I calls the hosts J > I it is not connected to, WAVE at a time: a
    # confab refuses handshakes beyond 64 in progress (outgoing included),
    # and a refused /connect by address is not tried again by itself
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if mesh == "full" or i == 0]
    t0 = time.monotonic()
    rounds = 0
    while True:
        missing = [(i, j) for i, j in pairs if fps[j] not in hs[i].online]
        if not missing:
            break
        if time.monotonic() - t0 > 300:
            raise SystemExit("bench: %d sessions of the %s mesh not up after 300 s" % (len(missing), mesh))
        calls, called = {}, []
        for i, j in missing:
            if calls.get(i, 0) < WAVE:
                hs[i].say("/connect %s" % hs[j].addr)
                calls[i] = calls.get(i, 0) + 1
                called.append((i, j))
        rounds += 1
        end = time.monotonic() + 10
        while time.monotonic() < end and any(fps[j] not in hs[i].online for i, j in called):
            g.alive()
            g.pump(0.2)
    print("%s mesh: %d sessions up in %.1f s (%d rounds of at most %d calls per host)"
          % (mesh, len(pairs), time.monotonic() - t0, rounds, WAVE))
    sys.stdout.flush()


def make_room(g, lab, n):
    """h1 creates #bench and invites the others; they join; returns the room id."""
    hs = g.hosts
    c0 = bridge_counters(lab)
    h1 = hs[0]
    h1.say("/room create bench")
    g.until(lambda: any(e.get("name") == "bench" for e in h1.room.values()), 30, "the room")
    rid = [r for r, e in h1.room.items() if e.get("name") == "bench"][0]
    t0 = time.monotonic()
    for h in hs[1:]:
        h1.say("/room invite bench %s" % h.name)
    g.until(lambda: all(h.invite == rid for h in hs[1:]), 120, "every invitation")
    for h in hs[1:]:
        h.say("/room join %s" % rid)
    full = lambda h: len(h.room.get(rid, {}).get("members", [])) == n and \
        h.room[rid].get("state") == "joined"
    g.until(lambda: all(full(h) for h in hs), 300, "every host listing %d joined members" % n)
    c1 = bridge_counters(lab)
    print("room: %d invited and joined, every member lists all %d, %.1f s after the first invite; "
          "%d packets, %.1f MB on the bridge meanwhile" % (n - 1, n, time.monotonic() - t0,
                                                          c1[0] - c0[0], (c1[1] - c0[1]) / 1e6))
    sys.stdout.flush()
    return rid


def settle(g, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        g.alive()
        g.pump(end - time.monotonic())


def talk(g, lab, authors, rate, seconds, drain):
    """The message phase; returns (send times, elapsed, counters, cpu)."""
    hs = g.hosts
    nmsg = int(rate * seconds)
    # background: discovery beacons, keepalives, over 5 s before
    b0, tb0 = bridge_counters(lab), time.monotonic()
    settle(g, 5)
    b1, tb1 = bridge_counters(lab), time.monotonic()
    bg = ((b1[0] - b0[0]) / (tb1 - tb0), (b1[1] - b0[1]) / (tb1 - tb0))
    cpu0 = [h.cpu_s() for h in hs]
    c0, t0 = bridge_counters(lab), time.monotonic()
    sent = {}
    for k in range(nmsg):
        at = t0 + k / float(rate)
        while time.monotonic() < at:
            g.pump(at - time.monotonic())
        a = hs[k % authors]
        sent[k] = time.monotonic()
        a.say("/msg #bench bench-%d" % k)
    others = lambda k: [h for i, h in enumerate(hs) if i != k % authors]
    done = lambda: all(all(k in h.got for h in others(k)) for k in sent)
    t_end = time.monotonic() + drain
    while not done() and time.monotonic() < t_end:
        g.alive()
        g.pump(0.2)
    settle(g, 2)   # the last acknowledgments (HAVE) cross too
    c1, t1 = bridge_counters(lab), time.monotonic()
    cpu1 = [h.cpu_s() for h in hs]
    return sent, others, (c0, c1, t1 - t0, bg), sum(cpu1) - sum(cpu0)


def report(g, sent, others, counters, cpu, n, authors, rate):
    (c0, c1, dt, bg) = counters
    lat, missing, per = [], 0, []
    for k, ts in sent.items():
        got = 0
        for h in others(k):
            if k in h.got:
                lat.append((h.got[k] - ts) * 1000)
                got += 1
            else:
                missing += 1
        per.append(got)
    lat.sort()
    dups = sum(h.dups for h in g.hosts)
    nm = len(sent)
    print("%d messages from %d authors at %g/s to %d members: %d of %d deliveries (%s per message: "
          "min %d, max %d), %d missing, %d shown twice"
          % (nm, authors, rate, n, len(lat), nm * (n - 1), "all %d" % (n - 1) if missing == 0 else
             "not all", min(per), max(per), missing, dups))
    print("latency, send (driver writes /msg) to each member's message event: median %.0f ms, "
          "p90 %.0f, p99 %.0f, max %.0f" % (statistics.median(lat), pct(lat, 90), pct(lat, 99),
                                           lat[-1]))
    pk, by = c1[0] - c0[0], c1[1] - c0[1]
    pk_net, by_net = pk - bg[0] * dt, by - bg[1] * dt
    print("bridge: %d packets, %.1f MB in %.0f s (background %.1f packets/s); per message: "
          "%.0f packets, %.1f KB (%.1f packets, %.0f bytes per receiving member)"
          % (pk, by / 1e6, dt, bg[0], pk_net / nm, by_net / nm / 1e3, pk_net / nm / (n - 1),
             by_net / nm / (n - 1)))
    print("confab CPU time (all %d processes) %.1f s over %.0f s: %.1f ms per message, "
          "%.0f %% of one core" % (n, cpu, dt, cpu * 1000 / nm, 100 * cpu / dt))
    errs = [e for h in g.hosts for e in h.errors]
    if errs:
        print("errors from the hosts: %d, first: %s" % (len(errs), errs[0]))
    sys.stdout.flush()
    return missing == 0 and dups == 0


def main():
    args = sys.argv[1:]
    confab, work, prefix = args[0], args[1], args[2]
    opts = {"--members": "50", "--authors": "5", "--rate": "10", "--seconds": "60",
            "--mesh": "full", "--homes": "", "--drain": "30"}
    i = 3
    while i < len(args):
        if args[i] not in opts:
            raise SystemExit("rooms.py: unknown option " + args[i])
        opts[args[i]] = args[i + 1]
        i += 2
    n, authors = int(opts["--members"]), int(opts["--authors"])
    rate, seconds = float(opts["--rate"]), float(opts["--seconds"])
    homes = opts["--homes"] or os.path.join(work, "homes")
    os.makedirs(homes, exist_ok=True)
    print("# %d members, %s mesh, %d authors, %g messages/s for %g s, homes in %s"
          % (n, opts["--mesh"], authors, rate, seconds, homes))
    lab = Lab(prefix)
    g = Group(confab, work, homes)
    try:
        build(g, lab, n, opts["--mesh"])
        settle(g, 3)
        print(rss_line(g.hosts, "with its sessions, before the room"))
        make_room(g, lab, n)
        settle(g, 3)
        print(rss_line(g.hosts, "after the joins"))
        sent, others, counters, cpu = talk(g, lab, authors, rate, seconds, float(opts["--drain"]))
        ok = report(g, sent, others, counters, cpu, n, authors, rate)
        print(rss_line(g.hosts, "after the messages"))
        g.stop()
        sys.exit(0 if ok else 1)
    finally:
        g.stop()
        lab.destroy()


if __name__ == "__main__":
    main()
