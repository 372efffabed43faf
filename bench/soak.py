"""Soak: 10 connections on one radio notifying and indicating both ways for a long time.

One process, one in-process LocalRadio (board timing by default), a hub board connected
as central to 10 peripheral boards, all through our `bluetooth` binding with `BLE.new()`;
every irq handler runs on the main thread, as in a `bleboard run` board. On each link both
ends are GATT servers: each sends numbered notifications and indications to the other.
Every payload carries its link and sequence number, and every receiver checks that they
arrive in order, once, with the right content.

Checked at the end (exit status 1 if any fails; the figures are printed either way):
  - no lost acknowledged data: every indication acknowledged (INDICATE_DONE status 0) was
    received by its peer, and no notification was lost, duplicated or reordered;
  - RSS flat within 5 MB from the end of the warm-up to the end;
  - no thread or file descriptor growth over the same span.

usage: python bench/soak.py [--minutes 10] [--links 10] [--period-ms 20] [--latency board]
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
def rss_mb():
    try:
        import psutil

        return psutil.Process().memory_info().rss / 1e6
    except ImportError:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def threads():
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()


def fds():
    return len(os.listdir("/proc/self/fd"))


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

    def __init__(self, radio, name):
        self.name = name
        self.ble = bluetooth.BLE.new(radio=radio)
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


def connect(hub, peripheral, link):
    """Hub connects to `peripheral` as central; returns (hub's End, peripheral's End)."""
    hub_end, per_end = End(link, 0), End(link, 1)
    hub.pending, peripheral.pending = hub_end, per_end
    hub.connected.clear()
    peripheral.connected.clear()
    peripheral.ble.gap_advertise(20000)
    hub.ble.gap_connect(*peripheral.ble.config("mac"))
    if not (hub.connected.wait(10) and peripheral.connected.wait(10)):
        raise TimeoutError("soak: link %d did not connect within 10 s" % link)
    return hub_end, per_end


def run(minutes, links, period_ms, latency):
    radio = LocalRadio(latency=latency)
    hub = Board(radio, "hub")
    peripherals = [Board(radio, "p%d" % i) for i in range(links)]
    pairs = []  # (hub End, peripheral Board, peripheral End)
    for i, p in enumerate(peripherals):
        hub_end, per_end = connect(hub, p, i)
        pairs.append((hub_end, p, per_end))
    print("soak: %d links up on one radio (latency %s); sending every %d ms for %.1f min"
          % (links, latency, period_ms, minutes), flush=True)

    duration = minutes * 60
    warmup = min(60.0, duration / 5)
    start = time.monotonic()
    base = None  # (rss, threads, fds) at the end of the warm-up
    peak_rss = 0.0
    next_report = start + warmup
    tick = period_ms / 1000.0
    ticks = 0
    while time.monotonic() - start < duration:
        time.sleep(tick)
        ticks += 1
        indicate = ticks % 2 == 0  # indications every other tick: they wait for a confirmation
        for hub_end, p, per_end in pairs:
            hub.send(hub_end, indicate)
            p.send(per_end, indicate)
        now = time.monotonic()
        if now >= next_report:
            rss = rss_mb()
            peak_rss = max(peak_rss, rss)
            if base is None:
                base = (rss, threads(), fds())
            print("soak: %5.0f s  rss %.1f MB  threads %d  fds %d  notifications sent %d"
                  % (now - start, rss, threads(), fds(), sum(h.notify_seq + e.notify_seq for h, _, e in pairs)),
                  flush=True)
            next_report = now + 60
    end_figures = (rss_mb(), threads(), fds())
    peak_rss = max(peak_rss, end_figures[0])

    # Let what is in flight arrive: every indication confirmed, every notification counted.
    ends = [(h, e) for h, _, e in pairs] + [(e, h) for h, _, e in pairs]  # (sender, receiver)

    def settled():
        return all(s.in_flight is None and r.got_notify == s.notify_seq for s, r in ends)

    try:
        wait_for(settled, SETTLE_S, "everything in flight arrived")
    except TimeoutError as exc:
        print(exc)
    return report(pairs, ends, hub, peripherals, base, end_figures, peak_rss, time.monotonic() - start)


def report(pairs, ends, hub, peripherals, base, end_figures, peak_rss, elapsed):
    notes_sent = sum(s.notify_seq for s, _ in ends)
    notes_got = sum(r.got_notify for _, r in ends)
    ind_sent = sum(s.indicate_seq for s, _ in ends)
    ind_acked = sum(s.acked for s, _ in ends)
    ind_failed = sum(s.ack_failed for s, _ in ends)
    ind_got = sum(r.got_indicate for _, r in ends)
    lost_acked = sum(max(0, s.acked - r.got_indicate) for s, r in ends)
    errors = [m for s, r in ends for m in r.errors]
    dropped = hub.lost_links + sum(p.lost_links for p in peripherals)
    print("soak: %.1f min, %d links, both ways" % (elapsed / 60, len(pairs)))
    print("  notifications  sent %d  received %d  lost %d" % (notes_sent, notes_got, notes_sent - notes_got))
    print("  indications    sent %d  acknowledged %d  failed %d  received %d" % (ind_sent, ind_acked, ind_failed, ind_got))
    print("  lost acknowledged data: %d" % lost_acked)
    print("  links dropped: %d   receive errors: %d" % (dropped, len(errors)))
    for m in errors[:10]:
        print("    " + m)
    ok = lost_acked == 0 and notes_sent == notes_got and not errors and not dropped and ind_failed == 0
    if base is None:
        print("  (run shorter than its warm-up: no memory or resource figures)")
    else:
        rss0, th0, fd0 = base
        rss1, th1, fd1 = end_figures
        print("  RSS after warm-up %.1f MB, at end %.1f MB (%+.1f MB), peak %.1f MB" % (rss0, rss1, rss1 - rss0, peak_rss))
        print("  threads %d -> %d   fds %d -> %d" % (th0, th1, fd0, fd1))
        ok = ok and abs(rss1 - rss0) <= RSS_LIMIT_MB and th1 <= th0 and fd1 <= fd0
    print("soak: %s" % ("PASS" if ok else "FAIL"), flush=True)
    for b in [hub] + peripherals:
        b.ble.active(False)
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--links", type=int, default=10)
    ap.add_argument("--period-ms", type=int, default=20, help="one notification per link and direction per period")
    ap.add_argument("--latency", default="board", help="board (7.5 ms connection events), fast, or ms")
    a = ap.parse_args(argv)
    if a.minutes <= 0 or a.links < 1 or a.period_ms < 1:
        ap.error("--minutes, --links and --period-ms must be positive")
    latency = a.latency if a.latency in ("board", "fast") else float(a.latency)
    return 0 if run(a.minutes, a.links, a.period_ms, latency) else 1


if __name__ == "__main__":
    sys.exit(main())
