#!/usr/bin/env python3
# transfer.py - the chat part of tests/bench/transfer.sh: message latency
# between two headless instances with and without a big file transfer running.
# Standard library only.  Usage: transfer.py CONFAB WORKDIR FILE DLDIR NMSG
# Uses driver.py's Bench (loopback, --no-discovery --no-nat, every process
# listed in WORKDIR/pids and killed on the way out).
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ left in the source tree
from driver import Bench, pct, ms, proc_sample  # noqa: E402


def summary(vals):
    v = sorted(vals)
    return "median %s, p99 %s, max %s" % (ms(statistics.median(v)), ms(pct(v, 99)), ms(v[-1]))


class Xfer:
    """A's view of the transfers it starts: one at a time, A -> B."""

    def __init__(self):
        self.running = False      # A reported state "running" and not yet final
        self.id = None
        self.t_run = None
        self.done = []            # (id, state, bytes, seconds running, path at B)
        self.b_path = {}          # id -> path B reported
        self.final = set()


def run(bench, path, dldir, nmsg):
    a, b = bench.pair()
    tag = "%d" % os.getpid()
    size = os.path.getsize(path)
    xf = Xfer()
    msg = {}
    got_b = [0]

    def h(p, ev, t):
        e = ev["event"]
        if p is a and e == "sent":
            if ev.get("queued"):
                raise SystemExit("bench: message queued (peer offline?)")
            msg["id"], msg["ts"] = ev["id"], t
        elif p is a and e == "delivered" and ev["id"] == msg.get("id"):
            msg["td"] = t
        elif p is b and e == "message" and ev["text"].startswith("lat-" + tag):
            got_b[0] += 1
        elif p is b and e == "offer":
            bench.write(b, ("/accept %s %s\n" % (ev["id"], dldir)).encode())
        elif e == "transfer":
            st = ev["state"]
            if p is b and ev.get("path"):
                xf.b_path[ev["id"]] = ev["path"]
            if p is a and st == "running" and not xf.running and ev["id"] not in xf.final:
                xf.running, xf.id, xf.t_run = True, ev["id"], t
            elif p is a and st in ("done", "failed", "cancelled", "rejected"):
                xf.final.add(ev["id"])
                if ev["id"] == xf.id:
                    xf.running = False
                    xf.done.append([ev["id"], st, ev.get("bytes", 0), (t - xf.t_run) / 1e9])
                if st != "done":
                    raise SystemExit("bench: transfer %s ended %s: %s"
                                     % (ev["id"], st, ev.get("reason", "?")))
            elif p is b and st in ("failed", "cancelled", "rejected"):
                raise SystemExit("bench: B's transfer %s ended %s: %s"
                                 % (ev["id"], st, ev.get("reason", "?")))
        elif e == "error" or (e == "peer" and ev.get("state") != "online"):
            raise SystemExit("bench: unexpected event from %s: %s" % (p.name, ev))
    bench.handler = h

    def one(i, what):
        """Write one /msg and wait for its delivery; return (written->delivered, sent->delivered)."""
        msg.clear()
        tw = time.monotonic_ns()
        bench.write(a, ("/msg %s lat-%s-%s-%d\n" % (b.fp, tag, what, i)).encode())
        bench.until(lambda: "td" in msg, 30, "delivery of %s message %d" % (what, i))
        return msg["td"] - tw, msg["td"] - msg["ts"]

    def start_transfer():
        n = len(xf.final)
        bench.write(a, ("/send %s %s\n" % (b.fp, path)).encode())
        bench.until(lambda: xf.running or len(xf.final) > n, 60, "a transfer to start")

    def drop_received():
        # keep the tmpfs from filling: each copy is removed once B reported it
        for tid in list(xf.b_path):
            if tid in xf.final:
                try:
                    os.unlink(xf.b_path.pop(tid))
                except FileNotFoundError:
                    pass

    # (a) no transfer running
    base_w, base_s = [], []
    for i in range(nmsg):
        w, s = one(i, "idle")
        base_w.append(w)
        base_s.append(s)

    # (b) while A sends the file to B: a message counts only if it was written
    # while A's transfer was running; when a transfer ends before all are
    # measured, the file is sent again.
    busy_w, busy_s = [], []
    i = 0
    start_transfer()
    while len(busy_w) < nmsg:
        if not xf.running:
            # the transfer ended; wait for B to report the file, then go again
            bench.until(lambda: xf.done[-1][0] in xf.b_path, 30, "B's done event")
            drop_received()
            start_transfer()
            continue
        w, s = one(i, "busy")
        i += 1
        busy_w.append(w)
        busy_s.append(s)
    bench.until(lambda: not xf.running, 600, "the last transfer to finish")
    bench.until(lambda: xf.done[-1][0] in xf.b_path, 30, "B's done event")
    # check the last copy against the source before removing it
    last = xf.b_path[xf.done[-1][0]]
    same = files_equal(path, last)
    drop_received()
    bench.until(lambda: got_b[0] >= 2 * nmsg, 10, "every message at B")

    print("chat latency, %d messages A->B one at a time (each waits for its delivered event)" % nmsg)
    print("  no transfer:            sent->delivered %s" % summary(base_s))
    print("                          written->delivered %s" % summary(base_w))
    print("  during 1 file transfer: sent->delivered %s" % summary(busy_s))
    print("                          written->delivered %s" % summary(busy_w))
    for tid, st, nbytes, secs in xf.done:
        print("  transfer %s: %s, %d bytes in %.2f s (running->done at A) = %.0f MB/s"
              % (tid[:8], st, nbytes, secs, nbytes / secs / 1e6 if secs > 0 else 0))
    print("  transfers needed to cover all %d messages: %d; last copy matches source: %s"
          % (nmsg, len(xf.done), "yes" if same else "NO"))
    print("  B received %d of %d messages" % (got_b[0], 2 * nmsg))
    for p in (a, b):
        smp = proc_sample(p.pid)
        print("  memory: %s VmHWM %d kB" % (p.name, smp["VmHWM"]))
    # one machine-readable line for transfer.sh's summary
    print("RESULT idle_s2d_med=%.3f idle_s2d_p99=%.3f idle_s2d_max=%.3f "
          "busy_s2d_med=%.3f busy_s2d_p99=%.3f busy_s2d_max=%.3f "
          "idle_w2d_med=%.3f busy_w2d_med=%.3f busy_w2d_p99=%.3f busy_w2d_max=%.3f transfers=%d match=%s"
          % tuple([statistics.median(sorted(base_s)) / 1e6, pct(sorted(base_s), 99) / 1e6,
                   max(base_s) / 1e6,
                   statistics.median(sorted(busy_s)) / 1e6, pct(sorted(busy_s), 99) / 1e6,
                   max(busy_s) / 1e6,
                   statistics.median(sorted(base_w)) / 1e6, statistics.median(sorted(busy_w)) / 1e6,
                   pct(sorted(busy_w), 99) / 1e6, max(busy_w) / 1e6,
                   len(xf.done), "yes" if same else "no"]))
    ok = same and got_b[0] == 2 * nmsg and all(d[1] == "done" for d in xf.done)
    return 0 if ok else 1


def files_equal(x, y):
    with open(x, "rb") as f, open(y, "rb") as g:
        while True:
            bx, by = f.read(1 << 20), g.read(1 << 20)
            if bx != by:
                return False
            if not bx:
                return True


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: transfer.py CONFAB WORKDIR FILE DLDIR NMSG")
    bench = Bench(sys.argv[1], sys.argv[2])
    try:
        rc = run(bench, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    finally:
        bench.close()
    sys.exit(rc)


if __name__ == "__main__":
    main()
