"""The local attribute value store, owned by the binding as in MicroPython (modbluetooth.c).

Values live here, not in the host stack, so that `gatts_read` inside an irq handler sees
exactly the write that raised the irq: remote writes are applied by the same main-thread
queue that runs the handler (see _events.py).
"""

import threading

DEFAULT_CAPACITY = 20


class _Entry:
    __slots__ = ("data", "capacity", "append", "max_len", "fixed")

    def __init__(self):
        self.data = bytearray()
        self.capacity = DEFAULT_CAPACITY
        self.append = False
        self.max_len = None  # extension gatts_set_length: refuse longer remote writes
        self.fixed = False


class GattsDB:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}

    def reset(self, handles=()):
        with self._lock:
            self._entries = {h: _Entry() for h in handles}

    def __contains__(self, handle):
        return handle in self._entries

    def read(self, handle):
        """`gatts_read`: a copy; append mode empties the value after reading."""
        with self._lock:
            e = self._entries.get(handle)
            if e is None:
                return b""
            data = bytes(e.data)
            if e.append:
                e.data = bytearray()
            return data

    def peek(self, handle):
        """The whole current value (remote reads and notifications never clear it)."""
        with self._lock:
            e = self._entries.get(handle)
            return None if e is None else bytes(e.data)

    def write(self, handle, data):
        """`gatts_write`: store any length; capacity grows to fit, never shrinks."""
        with self._lock:
            e = self._entries.get(handle)
            if e is None:
                return False
            e.data = bytearray(data)
            if len(data) > e.capacity:
                e.capacity = len(data)
            return True

    def set_buffer(self, handle, capacity, append):
        with self._lock:
            e = self._entries.get(handle)
            if e is None:
                return False
            e.capacity = capacity
            e.append = bool(append)
            e.data = bytearray()
            return True

    def set_length(self, handle, max_len, fixed):
        with self._lock:
            e = self._entries.get(handle)
            if e is None:
                return False
            e.max_len = max_len
            e.fixed = bool(fixed)
            if max_len > e.capacity:
                e.capacity = max_len
            return True

    def length_ok(self, handle, size):
        """Extension rule: False when a remote write of `size` bytes must be refused."""
        e = self._entries.get(handle)
        if e is None or e.max_len is None:
            return True
        return size == e.max_len if e.fixed else size <= e.max_len

    def remote_write(self, handle, data):
        """A client's write: truncate to capacity (replace) or append until full."""
        with self._lock:
            e = self._entries.get(handle)
            if e is None:
                return
            if e.append:
                room = e.capacity - len(e.data)
                if room > 0:
                    e.data += data[:room]
            else:
                e.data = bytearray(data[: e.capacity])
