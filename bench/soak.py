"""Soak: 10 connections on one radio notifying and indicating both ways for a long time.

A hub board is the central of 10 links to 10 peripheral boards, all through our
`bluetooth` binding; every irq handler runs on its process's main thread. Two layouts:
  default      one process, every board a `BLE.new()` on one in-process LocalRadio;
  --processes  the way boards usually run: each peripheral a `bleboard run` board process
               (bench/soak_remote.py), the hub here, all on a private shared radio
               server (`bleboard air`), which is measured too.
On each link both ends are GATT servers: each sends numbered notifications and
indications to the other. Every payload carries its link, direction and sequence number,
and every receiver checks that they arrive in order, once, with the right content.

Checked at the end (exit status 1 if any fails; the figures are printed either way):
  - no lost acknowledged data: every indication acknowledged (INDICATE_DONE status 0) was
    received by its peer, and no notification was lost, duplicated or reordered;
  - RSS flat within 5 MB from the end of the warm-up to the end, in every process;
  - no thread or file descriptor growth over the same span.
Uses psutil for RSS when installed, else /proc.

usage: python bench/soak.py [--minutes 10] [--links 10] [--period-ms 20] [--latency board] [--processes]
"""

import argparse
import os
import struct
import sys
import threading
import time

import bluetooth
from bleboard.radio.local import LocalRadio

IRQ_CENTRAL_CONNECT, IRQ_CENTRAL_DISCONNECT = 1, 2
IRQ_PERIPHERAL_CONNECT, IRQ_PERIPHERAL_DISCONNECT = 7, 8
IRQ_GATTC_NOTIFY, IRQ_GATTC_INDICATE, IRQ_GATTS_INDICATE_DONE = 18, 19, 20
FLAG_READ, FLAG_NOTIFY, FLAG_INDICATE = 0x02, 0x10, 0x20
SERVICE = (bluetooth.UUID(0xFE50), ((bluetooth.UUID(0xFE51), FLAG_READ | FLAG_NOTIFY | FLAG_INDICATE),))
PAYLOAD = struct.Struct("<BBI14s")  # direction, link, sequence, filler: 20 bytes, fits MTU 23
FILLER = bytes(range(14))
RSS_LIMIT_MB = 5.0
SETTLE_S = 10.0  # after the last send: time for what is in flight to arrive


# ---- process figures ------------------------------------------------------------------
def rss_mb(pid="self"):
    try:
        import psutil

        return psutil.Process(None if pid == "self" else pid).memory_info().rss / 1e6
    except ImportError:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def threads(pid="self"):
    return len(os.listdir("/proc/%s/task" % pid))


def fds(pid="self"):
    return len(os.listdir("/proc/%s/fd" % pid))


def figures(pid="self"):
    return rss_mb(pid), threads(pid), fds(pid)


# ---- one end of a link ------------------------------------------------------------------
class End:
    """What one board knows of one link: its sends, acknowledgements and receptions."""

    def __init__(self, link, direction):
        self.link, self.direction = link, direction  # direction: 0 hub->peripheral, 1 back
        self.conn = None
        self.notify_seq = 0  # notifications sent
        self.indicate_seq = 0  # indications sent
        self.in_flight = None  # sequence of the indication awaiting its confirmation
        self.acked = 0
        self.ack_failed = 0
        self.got_notify = 0  # in-order notifications received from the peer
        self.got_indicate = 0
        self.errors = []

    def payload(self, seq):
        return PAYLOAD.pack(self.direction, self.link, seq, FILLER)

    def received(self, kind, data):
        """A notification or indication from the peer: must be the next one, intact."""
        direction, link, seq, filler = PAYLOAD.unpack(bytes(data))
        want_direction = 1 - self.direction
        expected = (self.got_notify if kind == "notify" else self.got_indicate) + 1
        if (direction, link, filler) != (want_direction, self.link, FILLER) or seq != expected:
            if len(self.errors) < 5:
                self.errors.append("%s link %d: got seq %d (want %d) dir %d link %d" % (
                    kind, self.link, seq, expected, direction, link))
            return
        if kind == "notify":
            self.got_notify = seq
        else:
            self.got_indicate = seq


class Board:
    """A `bluetooth` board: a server with one notify/indicate characteristic, ends by conn_handle."""

    def __init__(self, ble, name):
        self.name = name
        self.ble = ble
        self.ble.active(True)
        ((self.handle,),) = self.ble.gatts_register_services((SERVICE,))
        self.ends = {}  # conn_handle -> End
        self.pending = None  # the End a connection event is for
        self.connected = threading.Event()
        self.lost_links = 0
        self.ble.irq(self._irq)

    def _irq(self, event, data):
        if event in (IRQ_CENTRAL_CONNECT, IRQ_PERIPHERAL_CONNECT):
            end, self.pending = self.pending, None
            end.conn = data[0]
            self.ends[data[0]] = end
            self.connected.set()
        elif event in (IRQ_CENTRAL_DISCONNECT, IRQ_PERIPHERAL_DISCONNECT):
            end = self.ends.pop(data[0], None)
            if end is not None:
                end.conn = None
                self.lost_links += 1
        elif event == IRQ_GATTC_NOTIFY:
            end = self.ends.get(data[0])
            if end is not None:
                end.received("notify", data[2])
        elif event == IRQ_GATTC_INDICATE:
            end = self.ends.get(data[0])
            if end is not None:
                end.received("indicate", data[2])
        elif event == IRQ_GATTS_INDICATE_DONE:
            end = self.ends.get(data[0])
            if end is not None and end.in_flight is not None:
                if data[2] == 0:
                    end.acked = end.in_flight
                else:
                    end.ack_failed += 1
                end.in_flight = None

    def send(self, end, indicate):
        """One notification, and one indication if none is awaiting its confirmation."""
        if end.conn is None:
            return
        end.notify_seq += 1
        self.ble.gatts_notify(end.conn, self.handle, end.payload(end.notify_seq))
        if indicate and end.in_flight is None and end.ack_failed == 0:
            end.indicate_seq += 1
            end.in_flight = end.indicate_seq
            self.ble.gatts_indicate(end.conn, self.handle, end.payload(end.indicate_seq))


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("soak: %s within %.0f s" % (what, timeout_s))
        time.sleep(0.01)


def connect_to(hub, hub_end, addr):
    """Hub connects as central to the board advertising at `addr`; `hub_end` becomes that link."""
    hub.pending = hub_end
    hub.connected.clear()
    hub.ble.gap_connect(*addr)
    if not hub.connected.wait(10):
        raise TimeoutError("soak: link %d did not connect within 10 s" % hub_end.link)


def connect(hub, peripheral, link):
    """In-process: `peripheral` advertises, the hub connects; returns (hub's End, peripheral's End)."""
    hub_end, per_end = End(link, 0), End(link, 1)
    peripheral.pending = per_end
    peripheral.connected.clear()
    peripheral.ble.gap_advertise(20000)
    connect_to(hub, hub_end, peripheral.ble.config("mac"))
    if not peripheral.connected.wait(10):
        raise TimeoutError("soak: link %d: the peripheral saw no connection within 10 s" % link)
    return hub_end, per_end


def drive(senders, duration, period_ms, watched):
    """Send on every (board, End) each period for `duration` s. `watched`: {name: pid} of
    processes to measure; returns [(name, (rss, threads, fds) after the warm-up, the same
    at the end, peak rss, rss at the start)]."""
    warmup = min(60.0, duration / 5)
    start = time.monotonic()
    base = {}
    peak = dict.fromkeys(watched, 0.0)
    first = {name: rss_mb(pid) for name, pid in watched.items()}
    next_report = start + warmup
    tick = period_ms / 1000.0
    ticks = 0
    while time.monotonic() - start < duration:
        time.sleep(tick)
        ticks += 1
        indicate = ticks % 2 == 0  # indications every other tick: they wait for a confirmation
        for board, end in senders:
            board.send(end, indicate)
        now = time.monotonic()
        if now >= next_report:
            line = []
            for name, pid in watched.items():
                f = figures(pid)
                peak[name] = max(peak[name], f[0])
                base.setdefault(name, f)
                line.append("%s rss %.1f MB threads %d fds %d" % ((name,) + f))
            print("soak: %5.0f s  sent %d  %s" % (now - start, sum(e.notify_seq for _, e in senders), "; ".join(line)),
                  flush=True)
            next_report = now + 60
    out = []
    for name, pid in watched.items():
        f = figures(pid)
        out.append((name, base.get(name), f, max(peak[name], f[0]), first[name]))
    return out


def settle(ends):
    """Wait until what is in flight has arrived: every indication confirmed, every
    notification counted (a shortfall left after SETTLE_S is reported as lost)."""

    def settled():
        return all(s.in_flight is None and r.got_notify >= s.notify_seq for s, r in ends)

    try:
        wait_for(settled, SETTLE_S, "everything in flight arrived")
    except TimeoutError as exc:
        print(exc)


def run_in_process(minutes, links, period_ms, latency):
    """Every board a `BLE.new()` of this process, on one in-process radio."""
    radio = LocalRadio(latency=latency)
    hub = Board(bluetooth.BLE.new(radio=radio), "hub")
    peripherals = [Board(bluetooth.BLE.new(radio=radio), "p%d" % i) for i in range(links)]
    pairs = [connect(hub, p, i) + (p,) for i, p in enumerate(peripherals)]
    print("soak: %d links up on one in-process radio (latency %s); sending every %d ms for %.1f min"
          % (links, latency, period_ms, minutes), flush=True)
    t0 = time.monotonic()
    senders = [(hub, h) for h, _, _ in pairs] + [(p, e) for _, e, p in pairs]
    measured = drive(senders, minutes * 60, period_ms, {"process": "self"})
    ends = [(h, e) for h, e, _ in pairs] + [(e, h) for h, e, _ in pairs]  # (sender, receiver)
    settle(ends)
    dropped = hub.lost_links + sum(p.lost_links for p in peripherals)
    ok = report(ends, dropped, time.monotonic() - t0, measured)
    for b in [hub] + peripherals:
        b.ble.active(False)
    return ok


def run_processes(minutes, links, period_ms, latency):
    """The hub here, each peripheral a `bleboard run` board process, on a private shared radio."""
    from bleboard.testing.radio import PrivateRadio
    from soak_remote import RemoteBoard

    with PrivateRadio(latency=latency) as radio:
        os.environ["BLEBOARD_AIR"] = radio.addr  # the hub below joins it too
        remotes = [RemoteBoard(i, period_ms, minutes * 60, radio.addr) for i in range(links)]
        try:
            hub = Board(bluetooth.BLE.new(), "hub")
            pairs = []
            for r in remotes:
                hub_end = End(r.link, 0)
                connect_to(hub, hub_end, r.addr())
                r.wait_up()
                pairs.append((hub_end, r))
            print("soak: %d links up on a shared radio server, %d board processes (latency %s); sending every"
                  " %d ms for %.1f min" % (links, links, latency, period_ms, minutes), flush=True)
            t0 = time.monotonic()
            watched = {"hub": "self", "radio server": radio.pid}
            measured = drive([(hub, h) for h, _ in pairs], minutes * 60, period_ms, watched)
            try:
                wait_for(lambda: all(h.in_flight is None for h, _ in pairs), SETTLE_S, "the hub's last indications confirmed")
            except TimeoutError as exc:
                print(exc)
            for r in remotes:
                r.stop()  # each board stops sending and says what it sent
            settle([(r.sent, h) for h, r in pairs])
            for h, r in pairs:
                r.report(h)  # each board waits for what the hub sent, then reports
            ends = [(h, r.received) for h, r in pairs] + [(r.sent, h) for h, r in pairs]
            dropped = hub.lost_links + sum(r.lost_links for r in remotes)
            ok = report(ends, dropped, time.monotonic() - t0, measured + [r.figures() for r in remotes])
            hub.ble.active(False)
            return ok
        finally:
            for r in remotes:
                r.close()


def report(ends, dropped, elapsed, measured):
    """Print the figures; True when nothing acknowledged was lost and resources stayed flat."""
    notes_sent = sum(s.notify_seq for s, _ in ends)
    notes_got = sum(r.got_notify for _, r in ends)
    ind_sent = sum(s.indicate_seq for s, _ in ends)
    ind_acked = sum(s.acked for s, _ in ends)
    ind_failed = sum(s.ack_failed for s, _ in ends)
    ind_got = sum(r.got_indicate for _, r in ends)
    lost_acked = sum(max(0, s.acked - r.got_indicate) for s, r in ends)
    errors = [m for s, r in ends for m in r.errors]
    print("soak: %.1f min, %d links, both ways" % (elapsed / 60, len(ends) // 2))
    print("  notifications  sent %d  received %d  lost %d" % (notes_sent, notes_got, notes_sent - notes_got))
    print("  indications    sent %d  acknowledged %d  failed %d  received %d" % (ind_sent, ind_acked, ind_failed, ind_got))
    print("  lost acknowledged data: %d" % lost_acked)
    print("  links dropped: %d   receive errors: %d" % (dropped, len(errors)))
    for m in errors[:10]:
        print("    " + m)
    ok = lost_acked == 0 and notes_sent == notes_got and not errors and not dropped and ind_failed == 0
    for name, base, end_figures, peak, first in measured:
        if base is None:
            print("  %s: run shorter than its warm-up, no memory or resource figures" % name)
            continue
        rss0, th0, fd0 = base
        rss1, th1, fd1 = end_figures
        print("  %s: RSS at start %.1f MB, after warm-up %.1f MB, at end %.1f MB (%+.1f MB), peak %.1f MB;"
              " threads %d -> %d; fds %d -> %d" % (name, first, rss0, rss1, rss1 - rss0, peak, th0, th1, fd0, fd1))
        ok = ok and abs(rss1 - rss0) <= RSS_LIMIT_MB and th1 <= th0 and fd1 <= fd0
    print("soak: %s" % ("PASS" if ok else "FAIL"), flush=True)
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--links", type=int, default=10)
    ap.add_argument("--period-ms", type=int, default=20, help="one notification per link and direction per period")
    ap.add_argument("--latency", default="board", help="board (7.5 ms connection events), fast, or ms")
    ap.add_argument("--processes", action="store_true",
                    help="peripherals as `bleboard run` board processes on a shared radio server"
                    " (default: BLE.new() boards in this process on an in-process radio)")
    a = ap.parse_args(argv)
    if a.minutes <= 0 or a.links < 1 or a.period_ms < 1:
        ap.error("--minutes, --links and --period-ms must be positive")
    latency = a.latency if a.latency in ("board", "fast") else float(a.latency)
    run = run_processes if a.processes else run_in_process
    return 0 if run(a.minutes, a.links, a.period_ms, latency) else 1


if __name__ == "__main__":
    sys.exit(main())
