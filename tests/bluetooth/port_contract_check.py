"""Type-checked, never run: mypy proves the Bumble port and the binding's sink fit the contract.

tests/bluetooth/test_port_contract.py runs mypy on this file. A method missing from
BumblePort (or Sink), or one that takes different arguments, fails the check.
"""

from bleboard.port.stack import BumblePort
from bluetooth._port import EventSink, Port, PortFactory
from bluetooth._sink import Sink


def bumble_port(options: dict) -> Port:
    return BumblePort(options)


def binding_sink(events, db) -> EventSink:
    return Sink(events, db)


default_factory: PortFactory = BumblePort
