"""Build the program one multitest instance runs (spec/bluetooth.md §7.1-7.3).

Every instance gets the same test file; what differs is the appended block that
names the instance's entry point and carries the globals set by the instances
started before it. The helper class is written out as source because it runs
inside the child interpreter (CPython, a virtual board, or later a real board),
so it must stay MicroPython-compatible.
"""

import re
import socket

# `def instanceN():` at the start of a line; other functions are not participants.
_INSTANCE_RE = re.compile(r"def instance([0-9]+)\(\):")

# One line, so a traceback's line numbers are off by exactly one.
PREFIX = "import sys; sys.path.remove('')\n"

# The `multitest` helper injected into every instance.
HELPER = '''
import sys


class multitest:
    @staticmethod
    def flush():
        if hasattr(sys.stdout, "flush"):
            sys.stdout.flush()

    @staticmethod
    def next():
        print("NEXT")
        multitest.flush()

    @staticmethod
    def skip():
        print("SKIP")
        multitest.flush()
        raise SystemExit

    @staticmethod
    def globals(**items):
        for name in items:
            print("SET " + name + " = " + repr(items[name]))
        multitest.flush()

    @staticmethod
    def broadcast(msg):
        print("BROADCAST " + str(msg))
        multitest.flush()

    @staticmethod
    def wait(msg):
        # The runner forwards other instances' broadcasts to our stdin.
        want = "BROADCAST " + str(msg)
        while True:
            line = multitest._readline()
            if not line:
                raise EOFError("multitest.wait: stdin closed before " + repr(want))
            if line.rstrip() == want:
                return

    @staticmethod
    def _readline():
        # MicroPython's unix port runs its BLE stack from scheduled tasks, which a
        # read blocked in the kernel would starve: idle in sleep_ms until a line is there.
        if sys.implementation.name != "micropython" or sys.platform not in ("linux", "darwin"):
            return sys.stdin.readline()
        import select
        import time

        poller = select.poll()
        poller.register(sys.stdin, select.POLLIN)
        while not poller.poll(0):
            time.sleep_ms(2)
        return sys.stdin.readline()

    @staticmethod
    def get_network_ip():
        g = globals()
        if "nic" in g:
            return g["nic"].ifconfig()[0]
        try:
            import network
        except ImportError:
            network = None
        if network is not None:
            for kind in ("WLAN", "LAN"):
                if hasattr(network, kind):
                    try:
                        return getattr(network, kind)().ifconfig()[0]
                    except Exception:
                        pass
        return HOST_IP

    @staticmethod
    def expect_reboot(resume, delay_ms=0):
        name = resume if isinstance(resume, str) else resume.__name__
        print("WAIT_FOR_REBOOT " + name + " " + str(delay_ms))

    @staticmethod
    def output_metric(data):
        print("OUTPUT_METRIC " + str(data))
'''


# `# multitest-skip: KIND[@N][,KIND[@N]...] -- reason` lines: the runner skips the file when
# an instance is of that kind (and, with @N, is instance N).
_SKIP_RE = re.compile(r"#\s*multitest-skip:\s*([A-Za-z0-9_@,\s-]+?)\s*--\s*(.+?)\s*$", re.M)


def skip_reason(source, kinds):
    """Why the file must not run on these instance kinds (a `# multitest-skip:` line), or None.

    Kind `micropython` covers every MicroPython firmware (NimBLE and BTstack);
    `micropython-nimble` and `micropython-btstack` only that one. `kinds` lists instance 0, 1, ... in order.
    """
    for match in _SKIP_RE.finditer(source):
        for item in match.group(1).split(","):
            kind, _, index = item.strip().partition("@")
            for i, have in enumerate(kinds):
                if index and index != str(i):
                    continue
                if have == kind or (kind == "micropython" and have.startswith("micropython")) or (
                    kind == "micropython-nimble" and have == "micropython"
                ):
                    return "%s as instance%d: %s" % (have, i, match.group(2))
    return None


def count_instances(source):
    """Return the number of participants: highest `def instanceN():` index + 1 (0 if none)."""
    highest = -1
    for line in source.splitlines():
        match = _INSTANCE_RE.match(line)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def host_ip():
    """IP of the interface carrying the default route, or 127.0.0.1 without a network.

    A UDP socket `connect` sends nothing; it only makes the kernel pick a route.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, only routed
        return sock.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        sock.close()


def initial_globals(source):
    """Globals every instance starts with: HOST_IP when the test asks for the network IP."""
    if "get_network_ip" in source:
        return ["HOST_IP = " + repr(host_ip())]
    return []


def build_script(source, index, global_lines):
    """Return the complete program for instance `index`.

    `global_lines` are Python source lines (`name = repr`), in the order received.
    """
    parts = [PREFIX, source, "\n", HELPER]
    for line in global_lines:
        parts.append(line + "\n")
    parts.append("instance%d()\n" % index)
    parts.append("multitest.flush()\n")
    return "".join(parts)
