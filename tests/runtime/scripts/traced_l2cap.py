"""An L2CAP bulk transfer between two boards of this process, with a tracer in every thread
as coverage.py installs one: prints how many transfers ended in time. Used by
test_rt_traced_threads.py; `python traced_l2cap.py [ROUNDS] [KB]`."""

import sys
import threading

threading.settrace(lambda *args: None)  # what coverage.py does for every new thread
sys.settrace(lambda *args: None)

import bluetooth

from bleboard.radio.local import LocalRadio

PSM, MTU = 0x80, 450
_PERIPHERAL_CONNECT, _L2CAP_CONNECT, _L2CAP_RECV, _L2CAP_SEND_READY = 7, 23, 25, 26


class Board:
    def __init__(self, radio):
        self.ble = bluetooth.BLE.new(radio=radio)
        self.ble.active(True)
        self.ble.irq(self.irq)
        self.seen = {}
        self.changed = threading.Event()
        self.received = 0
        self.want = 0
        self.done = threading.Event()
        self.buf = bytearray(4096)
        self.sending = None

    def irq(self, event, data):
        if event == _L2CAP_RECV:
            while True:
                n = self.ble.l2cap_recvinto(data[0], data[1], self.buf)
                self.received += n
                if n < len(self.buf):
                    break
            if self.received >= self.want:
                self.done.set()
        elif event == _L2CAP_SEND_READY:
            self.pump()
        else:
            self.seen[event] = tuple(data)
            self.changed.set()

    def wait(self, event):
        while event not in self.seen:
            if not self.changed.wait(10):
                raise SystemExit("no event %d" % event)
            self.changed.clear()
        return self.seen.pop(event)

    def pump(self):
        conn, cid, chunk, left = self.sending
        while left > 0:
            left -= len(chunk)
            self.sending = (conn, cid, chunk, left)
            if not self.ble.l2cap_send(conn, cid, chunk):
                return


def main(rounds, total):
    in_time = 0
    for _ in range(rounds):
        radio = LocalRadio(latency="fast")
        periph, central = Board(radio), Board(radio)
        periph.ble.l2cap_listen(PSM, MTU)
        periph.ble.gap_advertise(20000)
        central.ble.gap_connect(*periph.ble.config("mac"))
        conn = central.wait(_PERIPHERAL_CONNECT)[0]
        central.ble.l2cap_connect(conn, PSM, MTU)
        cid = central.wait(_L2CAP_CONNECT)[1]
        periph.wait(_L2CAP_CONNECT)
        periph.want = total
        central.sending = (conn, cid, bytes(MTU), total)
        central.pump()
        # Far longer than a transfer takes; a stalled delivery waits it out, then resumes.
        if periph.done.wait(20):
            in_time += 1
        periph.done.wait(60)
        central.ble.active(False)
        periph.ble.active(False)
    print("in time", in_time, "of", rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, 1000 * int(sys.argv[2]) if len(sys.argv) > 2 else 300_000)
