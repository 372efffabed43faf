"""One soak peripheral as its own `bleboard run` board process, and the hub's proxy for it.

Run by `bleboard run` (see `board_main`), the program advertises, prints its address,
and once the hub has connected sends numbered notifications and indications, checks
what the hub sends, and answers two commands on stdin:
  stop                 -> stop sending; once the last indication is confirmed print
                          "SENT notifications indications acknowledged failed"
  report N A           -> wait until the hub's N notifications and A acknowledged
                          indications arrived (bounded), then print "ERROR ..." lines and
                          "RESULT got_notify got_indicate links_lost rss0 rss1 peak th0 th1 fd0 fd1 rss_start"
`RemoteBoard` starts that process and speaks this protocol for bench/soak.py.
"""

import os
import queue
import subprocess
import sys
import threading
import time

LINE_TIMEOUT_S = 60.0


class Counts:
    """What one side of a remote link reported, shaped like soak.End for the report."""

    def __init__(self, **fields):
        self.notify_seq = self.indicate_seq = self.acked = self.ack_failed = 0
        self.got_notify = self.got_indicate = 0
        self.in_flight = None
        self.errors = []
        self.__dict__.update(fields)


class RemoteBoard:
    def __init__(self, link, period_ms, duration_s, air):
        self.link = link
        env = dict(os.environ, BLEBOARD_AIR=air)
        warmup = min(60.0, duration_s / 5)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bleboard", "run", os.path.abspath(__file__), str(link), str(period_ms), str(warmup)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env,
        )
        self._lines = queue.Queue()
        threading.Thread(target=self._read, name="soak-board-%d" % link, daemon=True).start()
        self.sent = self.received = None
        self.lost_links = 0
        self._figures = ("board %d" % link, None, None, 0.0, 0.0)

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)  # EOF: the process ended

    def _expect(self, word, timeout=LINE_TIMEOUT_S):
        """The next line starting with `word` (its other fields); other lines are echoed."""
        deadline = time.monotonic() + timeout
        errors = []
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError("soak: board %d said no %s within %.0f s" % (self.link, word, timeout)) from None
            if line is None:
                raise RuntimeError("soak: board %d ended (status %s) before %s" % (self.link, self.proc.wait(), word))
            fields = line.split()
            if fields and fields[0] == word:
                return fields[1:], errors
            if fields and fields[0] == "ERROR":
                errors.append(line[6:])
            else:
                print("  board %d: %s" % (self.link, line))

    def _send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def addr(self):
        (addr_type, mac), _ = self._expect("ADDR")
        return int(addr_type), bytes.fromhex(mac)

    def wait_up(self):
        self._expect("UP")

    def stop(self):
        self._send("stop")
        (n, i, acked, failed), _ = self._expect("SENT")
        self.sent = Counts(notify_seq=int(n), indicate_seq=int(i), acked=int(acked), ack_failed=int(failed))

    def report(self, hub_end):
        self._send("report %d %d" % (hub_end.notify_seq, hub_end.acked))
        fields, errors = self._expect("RESULT")
        got_n, got_i, lost = (int(f) for f in fields[:3])
        rss0, rss1, peak = (float(f) for f in fields[3:6])
        th0, th1, fd0, fd1 = (int(f) for f in fields[6:10])
        first = float(fields[10])
        self.received = Counts(got_notify=got_n, got_indicate=got_i, errors=errors)
        self.lost_links = lost
        base = None if rss0 < 0 else (rss0, th0, fd0)
        self._figures = ("board %d" % self.link, base, (rss1, th1, fd1), peak, first)

    def figures(self):
        return self._figures

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- the board program (runs under `bleboard run`) -----------------------------------
def board_main(link, period_ms, warmup_s):
    import bluetooth
    from soak import SETTLE_S, Board, End, figures

    ble = bluetooth.BLE()
    board = Board(ble, "p%d" % link)
    end = End(link, 1)
    board.pending = end
    ble.gap_advertise(20000)
    addr_type, mac = ble.config("mac")
    print("ADDR %d %s" % (addr_type, bytes(mac).hex()))
    commands = queue.Queue()

    def read_commands():
        for line in sys.stdin:
            commands.put(line.split())
        commands.put(["eof"])

    threading.Thread(target=read_commands, daemon=True).start()
    if not board.connected.wait(LINE_TIMEOUT_S):
        print("no connection from the hub")
        return 1
    print("UP")
    first = figures()[0]
    start = time.monotonic()
    base = None
    peak = 0.0
    ticks = 0
    command = None
    while command is None:
        time.sleep(period_ms / 1000.0)
        ticks += 1
        board.send(end, ticks % 2 == 0)
        if ticks % 500 == 0 and time.monotonic() - start >= warmup_s:
            f = figures()
            base = base or f
            peak = max(peak, f[0])
        try:
            command = commands.get_nowait()
        except queue.Empty:
            pass
    final = figures()
    if command[0] != "stop":
        return 1
    deadline = time.monotonic() + SETTLE_S
    while end.in_flight is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    print("SENT %d %d %d %d" % (end.notify_seq, end.indicate_seq, end.acked, end.ack_failed))
    command = commands.get()
    if command[0] != "report":
        return 1
    want_n, want_i = int(command[1]), int(command[2])
    deadline = time.monotonic() + SETTLE_S
    while (end.got_notify < want_n or end.got_indicate < want_i) and time.monotonic() < deadline:
        time.sleep(0.01)
    for message in end.errors:
        print("ERROR " + message)
    rss0, th0, fd0 = base if base is not None else (-1.0, 0, 0)
    print("RESULT %d %d %d %.1f %.1f %.1f %d %d %d %d %.1f" % (
        end.got_notify, end.got_indicate, board.lost_links, rss0, final[0], max(peak, final[0]), th0, final[1], fd0,
        final[2], first))
    return 0


if __name__ == "__main__":
    sys.exit(board_main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
