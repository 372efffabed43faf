"""L2CAP connection-oriented channels for the port (spec §3.13) over Bumble's LE CoC."""


class L2cap:
    def __init__(self, port):
        self.port = port

    def attach(self, device):
        """A new Bumble device (active(True)): no channel, nothing listening."""

    def on_link_closed(self, link, notify):
        """The connection dropped: its channel is gone (events before the disconnect event)."""

    def reset(self):
        """active(False): forget every channel silently."""
