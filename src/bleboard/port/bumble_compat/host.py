"""Bumble's HCI host, without paying for debug lines nobody reads.

Bumble builds a coloured debug line (the whole packet rendered as text) for every HCI packet
in and out, whether or not debug logging is on: for a stream of ACL data that formatting
costs about as much as the rest of the host's work. When the `bumble.host` logger would
drop those lines anyway, packets take a direct path to the same handlers; with debug
logging on (or a Bumble snooper attached), Bumble's own methods run unchanged.
"""

import logging

from bumble import hci
from bumble.host import Host

_log = logging.getLogger("bumble.host")


class QuietHost(Host):
    def send_hci_packet(self, packet):
        if self.snooper or self.hci_sink is None or _log.isEnabledFor(logging.DEBUG):
            super().send_hci_packet(packet)
            return
        self.hci_sink.on_packet(bytes(packet))

    def on_hci_packet(self, packet):
        if self.snooper or _log.isEnabledFor(logging.DEBUG):
            super().on_hci_packet(packet)
        elif isinstance(packet, hci.HCI_AclDataPacket):
            self.on_hci_acl_data_packet(packet)
        elif isinstance(packet, hci.HCI_Event):
            self.on_hci_event_packet(packet)
        else:
            super().on_hci_packet(packet)
