"""Pairing, bonding and the application-owned key store for the port (spec §3.14, §4.5)."""


class Security:
    def __init__(self, port):
        self.port = port

    def attach(self, device):
        """A new Bumble device: install the pairing configuration and the key store."""

    def on_link_closed(self, link, notify):
        """The connection dropped: end a pairing in progress."""

    def reset(self):
        """active(False)."""
