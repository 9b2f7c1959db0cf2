#!/usr/bin/env python3
# driver.py - drives headless confab instances for tests/bench/*.sh.
# Standard library only.  Usage: driver.py chat|idle CONFAB WORKDIR
# Every instance listens on 127.0.0.1 with --no-discovery --no-nat; every
# process it starts is written to WORKDIR/pids and killed on the way out.
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import time

NS_PER_MS = 1_000_000


class Peer:
    """One headless instance: non-blocking stdin writes, timestamped events."""

    def __init__(self, confab, work, name):
        home = os.path.join(work, name)
        os.makedirs(home)
        self.name = name
        self.err = open(os.path.join(work, name + ".err"), "wb")
        self.proc = subprocess.Popen(
            [confab, "--headless", "--home", home, "--nick", name,
             "--no-discovery", "--no-nat", "--listen", "127.0.0.1:0",
             "--log", os.path.join(work, name + ".log")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
            bufsize=0)
        with open(os.path.join(work, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        self.pid = self.proc.pid
        self.rfd = self.proc.stdout.fileno()
        self.wfd = self.proc.stdin.fileno()
        os.set_blocking(self.rfd, False)
        os.set_blocking(self.wfd, False)
        self.rbuf = b""
        self.wbuf = bytearray()
        self.eof = False
        self.fp = None
        self.addr = None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.err.close()


class Bench:
    """A single-threaded select loop over all peers' pipes."""

    def __init__(self, confab, work):
        self.confab = confab
        self.work = work
        self.peers = []
        self.sel = selectors.DefaultSelector()
        self.handler = None
        self.others = []

    def spawn(self, name):
        p = Peer(self.confab, self.work, name)
        self.peers.append(p)
        self.sel.register(p.rfd, selectors.EVENT_READ, p)
        return p

    def close(self):
        """Kill and reap everything started here; the pid list is then stale."""
        for p in self.peers:
            p.stop()
        for proc in self.others:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        open(os.path.join(self.work, "pids"), "w").close()

    def write(self, p, data):
        """Queue bytes for p's stdin; pump() sends them as it takes them."""
        p.wbuf += data
        self._flush(p)

    def _flush(self, p):
        while p.wbuf:
            try:
                n = os.write(p.wfd, p.wbuf)
            except BlockingIOError:
                break
            del p.wbuf[:n]
        self._arm(p)

    def _arm(self, p):
        # stdin has its own fd: watch it for writability only while bytes wait
        registered = p.wfd in self.sel.get_map()
        if p.wbuf and not registered:
            self.sel.register(p.wfd, selectors.EVENT_WRITE, p)
        elif not p.wbuf and registered:
            self.sel.unregister(p.wfd)

    def pump(self, timeout):
        """Wait up to timeout seconds for I/O; hand each event to the handler
        with the monotonic_ns time its line was read."""
        for key, mask in self.sel.select(timeout):
            p = key.data
            if key.fd == p.wfd:
                self._flush(p)
                continue
            try:
                chunk = os.read(p.rfd, 1 << 20)
            except BlockingIOError:
                continue
            t = time.monotonic_ns()
            if not chunk:
                p.eof = True
                self.sel.unregister(p.rfd)
                continue
            lines = (p.rbuf + chunk).split(b"\n")
            p.rbuf = lines.pop()
            for line in lines:
                if line:
                    self.handler(p, json.loads(line), t)

    def until(self, cond, secs, what):
        deadline = time.monotonic() + secs
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit("bench: timed out waiting for " + what)
            for p in self.peers:
                if p.proc.poll() is not None:
                    raise SystemExit("bench: %s exited with %d while waiting for %s"
                                     % (p.name, p.proc.returncode, what))
            self.pump(min(left, 0.5))

    def pair(self):
        """Start A and B, connect A to B, wait until both see the other online."""
        a, b = self.spawn("A"), self.spawn("B")
        online = set()

        def h(p, ev, t):
            if ev["event"] == "ready":
                p.fp, p.addr = ev["fingerprint"], ev["listen"][0]
            elif ev["event"] == "peer" and ev.get("state") == "online":
                online.add(p.name)
        self.handler = h
        self.until(lambda: a.fp and b.fp, 10, "ready events")
        self.write(a, ("/connect %s\n" % b.addr).encode())
        self.until(lambda: online >= {"A", "B"}, 10, "both peers online")
        return a, b


def pct(sorted_vals, q):
    """Nearest-rank percentile of an ascending list."""
    k = max(0, min(len(sorted_vals) - 1, -(-len(sorted_vals) * q // 100) - 1))
    return sorted_vals[int(k)]


def ms(ns):
    return "%.3f ms" % (ns / NS_PER_MS)


def run_chat(bench, n_flood=10000, n_pp=1000):
    a, b = bench.pair()
    tag = "%d" % os.getpid()

    # (a) flood: every command queued at once, fed as fast as A's stdin takes it
    sent_t, deliv_t, order = {}, {}, []
    got = {}

    def h(p, ev, t):
        e = ev["event"]
        if p is a and e == "sent":
            sent_t[ev["id"]] = t
            order.append(ev["id"])
            if ev.get("queued"):
                raise SystemExit("bench: message queued (peer offline?)")
        elif p is a and e == "delivered":
            deliv_t[ev["id"]] = t
        elif p is b and e == "message":
            got[ev["text"]] = got.get(ev["text"], 0) + 1
        elif e == "error" or (e == "peer" and ev.get("state") != "online"):
            raise SystemExit("bench: unexpected event from %s: %s" % (p.name, ev))
    bench.handler = h
    cmds = "".join("/msg %s flood-%s-%d\n" % (b.fp, tag, i) for i in range(n_flood))
    t0 = time.monotonic_ns()
    bench.write(a, cmds.encode())
    bench.until(lambda: len(deliv_t) >= n_flood, 300, "flood deliveries")
    t_last = max(deliv_t.values())
    # let any duplicates show up before counting
    bench.until(lambda: sum(got.values()) >= n_flood, 30, "flood messages at B")
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        bench.pump(0.1)

    total = t_last - t0
    lat = sorted(deliv_t[i] - sent_t[i] for i in order)
    want = {"flood-%s-%d" % (tag, i) for i in range(n_flood)}
    missing = len(want - got.keys())
    dups = sum(1 for k in want if got.get(k, 0) > 1)
    extra = len(got.keys() - want)
    print("flood: %d messages A->B" % n_flood)
    print("  total time, first command written -> last delivered: %s" % ms(total))
    print("  throughput: %.0f messages/s" % (n_flood / (total / 1e9)))
    print("  latency sent->delivered: median %s, p99 %s, max %s"
          % (ms(statistics.median(lat)), ms(pct(lat, 99)), ms(lat[-1])))
    print("  sent events %d, delivered events %d (distinct ids)" % (len(sent_t), len(deliv_t)))
    ok = missing == 0 and dups == 0 and extra == 0 and sum(got.values()) == n_flood
    print("  check: B received %d message events; %d distinct of %d expected, "
          "%d missing, %d duplicated, %d unexpected -> %s"
          % (sum(got.values()), len(got.keys() & want), n_flood, missing, dups, extra,
             "PASS" if ok else "FAIL"))

    # (b) ping-pong: one at a time, each waiting for its delivered event
    state = {}
    got_pp = [0]

    def h2(p, ev, t):
        e = ev["event"]
        if p is a and e == "sent":
            state["id"], state["ts"] = ev["id"], t
        elif p is a and e == "delivered" and ev["id"] == state.get("id"):
            state["td"] = t
        elif p is b and e == "message" and ev["text"].startswith("pp-" + tag):
            got_pp[0] += 1
        elif e == "error" or (e == "peer" and ev.get("state") != "online"):
            raise SystemExit("bench: unexpected event from %s: %s" % (p.name, ev))
    bench.handler = h2
    rtt, s2d = [], []
    for i in range(n_pp):
        state.clear()
        line = ("/msg %s pp-%s-%d\n" % (b.fp, tag, i)).encode()
        tw = time.monotonic_ns()
        bench.write(a, line)
        bench.until(lambda: "td" in state, 10, "ping-pong delivery %d" % i)
        rtt.append(state["td"] - tw)
        s2d.append(state["td"] - state["ts"])
    bench.until(lambda: got_pp[0] >= n_pp, 10, "ping-pong messages at B")
    rtt.sort()
    s2d.sort()
    print("ping-pong: %d messages, one at a time" % n_pp)
    print("  round trip, command written -> delivered read: median %s, p99 %s, max %s"
          % (ms(statistics.median(rtt)), ms(pct(rtt, 99)), ms(rtt[-1])))
    print("  of which sent read -> delivered read: median %s, p99 %s, max %s"
          % (ms(statistics.median(s2d)), ms(pct(s2d, 99)), ms(s2d[-1])))
    print("  total %s; B received %d of %d -> %s"
          % (ms(sum(rtt)), got_pp[0], n_pp, "PASS" if got_pp[0] == n_pp else "FAIL"))
    for p in (a, b):
        s = proc_sample(p.pid)
        print("memory after both runs: %s VmRSS %d kB, VmHWM %d kB" % (p.name, s["VmRSS"], s["VmHWM"]))
    return 0 if ok and got_pp[0] == n_pp else 1


def proc_sample(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    ticks = int(fields[11]) + int(fields[12])
    s = {"cpu_ticks": ticks, "t": time.monotonic_ns()}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Threads", "VmRSS", "VmHWM", "voluntary_ctxt_switches",
                     "nonvoluntary_ctxt_switches"):
                s[k] = int(v.split()[0])
    return s


def run_idle(bench, secs=float(os.environ.get("BENCH_IDLE_SECS", "10")), settle=1.0):
    a, b = bench.pair()
    lone = bench.spawn("lone")   # for scale: an instance with no peer at all
    bench.until(lambda: lone.fp is not None, 10, "lone ready")   # pair()'s handler
    events = []
    bench.handler = lambda p, ev, t: events.append((p.name, ev))
    end = time.monotonic() + settle
    while time.monotonic() < end:
        bench.pump(end - time.monotonic())
    events.clear()

    procs = [a, b, lone]
    perf = None
    if shutil.which("perf"):
        perf_out = os.path.join(bench.work, "perf.csv")
        perf = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", perf_out, "--per-thread",
             "-e", "syscalls:sys_enter_poll,syscalls:sys_enter_ppoll",
             "-p", ",".join(str(p.pid) for p in procs), "--", "sleep", str(secs)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bench.others.append(perf)
        with open(os.path.join(bench.work, "pids"), "a") as f:
            f.write("%d\n" % perf.pid)
    before = {p.name: proc_sample(p.pid) for p in procs}
    end = time.monotonic() + secs
    while time.monotonic() < end:
        bench.pump(max(0.0, end - time.monotonic()))
    after = {p.name: proc_sample(p.pid) for p in procs}

    hz = os.sysconf("SC_CLK_TCK")
    print("idle: connected pair A<->B (plus one unconnected instance 'lone'), "
          "%.0f s window after %.0f s settle" % (secs, settle))
    print("  %-5s %9s %8s %12s %12s %8s %10s %10s" % (
        "proc", "cpu_ms", "cpu_%", "wakeups/s", "nonvol_cs", "threads",
        "VmRSS_kB", "VmHWM_kB"))
    for p in procs:
        s0, s1 = before[p.name], after[p.name]
        wall = (s1["t"] - s0["t"]) / 1e9
        cpu_ms = (s1["cpu_ticks"] - s0["cpu_ticks"]) * 1000.0 / hz
        print("  %-5s %9.0f %8.3f %12.2f %12d %8d %10d %10d" % (
            p.name, cpu_ms, 100.0 * cpu_ms / 1000.0 / wall,
            (s1["voluntary_ctxt_switches"] - s0["voluntary_ctxt_switches"]) / wall,
            s1["nonvoluntary_ctxt_switches"] - s0["nonvoluntary_ctxt_switches"],
            s1["Threads"], s1["VmRSS"], s1["VmHWM"]))
    print("  (cpu_ms = utime+stime delta, resolution %.0f ms; wakeups/s = "
          "voluntary_ctxt_switches delta / wall seconds)" % (1000.0 / hz))
    if perf is not None:
        perf.wait()
        counts = {}
        try:
            with open(perf_out) as f:
                for line in f:
                    parts = line.strip().split(",")
                    if len(parts) < 4 or line.startswith("#"):
                        continue
                    # per-thread lines: comm-tid,count,unit,event,...;
                    # "<not counted>" means the thread never ran in the window
                    if parts[1] == "<not counted>":
                        n = 0
                    else:
                        try:
                            n = int(parts[1])
                        except ValueError:
                            continue
                    counts[parts[0]] = counts.get(parts[0], 0) + n
        except OSError:
            pass
        if counts:
            pid2name = {str(p.pid): p.name for p in procs}
            shown = []
            for thread, n in sorted(counts.items()):
                tid = thread.rsplit("-", 1)[-1]
                shown.append("%s=%d (%.2f/s)" % (pid2name.get(tid, thread), n, n / secs))
            print("  perf poll+ppoll syscalls over the window (per thread): " + ", ".join(shown))
        else:
            print("  perf: not usable here (no counts); skipped")
    else:
        print("  perf: not installed; skipped")
    if events:
        print("  events during the idle window: %d, e.g. %s" % (len(events), events[0]))
    else:
        print("  events during the idle window: none")
    for p in (a, b):
        if p.proc.poll() is not None:
            print("  %s exited during the window!" % p.name)
            return 1
    return 0


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("chat", "idle"):
        sys.exit("usage: driver.py chat|idle CONFAB WORKDIR")
    bench = Bench(sys.argv[2], sys.argv[3])
    try:
        rc = run_chat(bench) if sys.argv[1] == "chat" else run_idle(bench)
    finally:
        bench.close()
    sys.exit(rc)


if __name__ == "__main__":
    main()
