"""One connection as the port sees it: the Bumble connection plus MicroPython's view of it."""

from bumble import hci


def addr_of(address):
    """(addr_type 0/1, 6 bytes display order) from a Bumble Address."""
    return (1 if address.address_type & 1 else 0), bytes(reversed(bytes(address)))


class Link:
    def __init__(self, port, connection):
        self.port = port
        self.connection = connection
        self.handle = connection.handle
        self.is_central = connection.role == hci.Role.CENTRAL  # we initiated: peer is a peripheral
        self.peer_addr_type, self.peer_addr = addr_of(connection.peer_address)
        self.closed = False
        self.indications = 0  # indications queued or in flight (gatts.py)
        self.responses_pending = 0  # client requests waiting for the application's irq
        self.deferred = []  # sends held back until those responses have left

    async def disconnect(self):
        if self.closed:
            return
        try:
            await self.connection.disconnect(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        except Exception:  # the link may already be gone; the event says so
            pass

    def info(self):
        c = self.connection
        p = c.parameters
        return {
            "interval_us": int(round(p.connection_interval * 1000)),
            "latency": int(p.peripheral_latency),
            "supervision_timeout_ms": int(round(p.supervision_timeout)),
            "mtu": int(c.att_mtu),
            "role": "central" if self.is_central else "peripheral",
            "addr_type": self.peer_addr_type,
            "addr": self.peer_addr,
            "encrypted": bool(c.encryption),
            "authenticated": bool(c.authenticated),
            "bonded": bool(getattr(self, "bonded", False)),
            "key_size": int(c.encryption_key_size or 0),
        }
