"""Virtual controllers behind pseudo-terminals, speaking H4 as a UART HCI controller does.

A host opens the pty with a real serial transport spec, exactly as it would
open an AirLift or an nRF board running hci_uart over USB-serial:

    with PtyRadio() as radio:
        port = radio.add()                  # "/dev/pts/7"
        # bumble: open_transport(f"serial:{port},1000000,rtscts")
        # _bleio: Adapter(uart=serial.Serial(port, 1000000, rtscts=True))

All controllers of one PtyRadio share one private virtual air (an AirLink and
its VirtualControllers), run on the radio's own loop thread, and hear each
other, but nothing else.  To put a pty host on the shared radio, next to
`bleboard run` boards, use bleboard.radio.pty_controller (`bleboard air --pty`).
"""

import asyncio
import contextlib
import errno
import logging
import os
import threading
import tty

from bleboard.radio.controller import VirtualController
from bleboard.radio.link import AirLink

logger = logging.getLogger(__name__)
CALL_TIMEOUT = 10.0  # seconds for the radio thread to answer add()/close()


class H4Pty:
    """One controller, its H4 byte stream on a pty. Create and use on the radio's loop."""

    def __init__(self, controller):
        from bumble.transport.common import PacketParser

        self.controller = controller
        self.loop = asyncio.get_running_loop()
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass untouched, as on a UART
        self.path = os.ttyname(self._slave)
        os.set_blocking(self.master, False)
        self._out = bytearray()
        self._parser = PacketParser(_FromHost(self))
        self.closed = False
        controller.host = self
        self.loop.add_reader(self.master, self._readable)

    # host -> controller: H4 bytes from the pty, parsed into packets
    def _readable(self):
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno == errno.EIO:  # no host has the port open
                return
            raise
        # byte by byte, so that garbage costs only the bad bytes (a UART controller resyncs the same way)
        for i in range(len(data)):
            try:
                self._parser.feed_data(data[i:i + 1])
            except Exception as e:
                logger.warning("%s: bad H4 byte 0x%02x from the host (%s); skipped", self.path, data[i], e)
                self._parser.reset()

    # controller -> host: the controller calls this (it is the controller's `host`)
    def on_packet(self, packet):
        self._send(bytes(packet))

    def _send(self, data):
        if self.closed:
            return
        self._out += data
        self._flush()

    def _flush(self):
        while self._out:
            try:
                n = os.write(self.master, self._out)
            except BlockingIOError:
                self.loop.add_writer(self.master, self._writable)
                return
            except OSError:
                self._out.clear()  # nobody will read it
                return
            del self._out[:n]

    def _writable(self):
        self.loop.remove_writer(self.master)
        self._flush()

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.master)
        self.loop.remove_writer(self.master)
        link = getattr(self.controller, "link", None)
        if link is not None:
            link.remove_controller(self.controller)
        self.controller.host = None
        os.close(self.master)
        os.close(self._slave)


class _FromHost:
    """The parser's sink: marks the call as host -> controller."""

    def __init__(self, pty):
        self.pty = pty

    def on_packet(self, packet):
        self.pty.controller.on_packet(bytes(packet))


class PtyRadio:
    """Virtual controllers on one air, each on its own pty; a thread runs their loop. Thread-safe."""

    def __init__(self, latency="fast"):
        self.latency = latency
        self._ptys = []
        self._count = 0
        self._ready = threading.Event()
        self.loop = None
        self._thread = threading.Thread(target=self._run, name="pty-radio", daemon=True)
        self._thread.start()
        if not self._ready.wait(CALL_TIMEOUT):
            raise RuntimeError("the pty radio's loop did not start")

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.link = AirLink(self.latency)
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    def _call(self, fn, *args):
        async def run():
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(CALL_TIMEOUT)

    def add(self, name=None):
        """A new controller on this air; returns the pty path a host opens as its serial port."""

        def create():
            self._count += 1
            controller = VirtualController(name or f"pty{self._count}", self.link)
            pty = H4Pty(controller)
            self._ptys.append(pty)
            return pty

        return self._call(create).path

    def controller(self, path):
        """The controller behind a pty path (for tests that look at the far side)."""
        return next(p.controller for p in self._ptys if p.path == path)

    def remove(self, path):
        """Unplug one controller: its host sees the serial port go quiet, its peers lose it."""

        def drop():
            for p in [p for p in self._ptys if p.path == path]:
                p.close()
                self._ptys.remove(p)

        self._call(drop)

    def close(self):
        if self.loop is None or self.loop.is_closed():
            return
        if self._thread.is_alive():
            self._call(lambda: [p.close() for p in self._ptys])
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(CALL_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextlib.contextmanager
def h4_controller(latency="fast"):
    """One virtual controller on a pty: yields (path, radio); add peers with radio.add()."""
    with PtyRadio(latency) as radio:
        yield radio.add(), radio


def main(argv=None):
    """`python -m bleboard.tools.hci_pty [N]`: N virtual controllers on ptys, for trying a host by hand."""
    import signal
    import sys

    argv = sys.argv[1:] if argv is None else argv
    count = int(argv[0]) if argv else 1
    with PtyRadio() as radio:
        for _ in range(count):
            port = radio.add()
            print(f"serial:{port},1000000,rtscts", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM ends it like Ctrl-C
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
