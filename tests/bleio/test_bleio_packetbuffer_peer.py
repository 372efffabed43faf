"""A local characteristic's PacketBuffer talks to the client CircuitPython would: the last
one that subscribed, else the first one that wrote, until it unsubscribes or disconnects.

The clients are raw `bluetooth` centrals on the same in-process radio, so they can write
without subscribing (a client-side PacketBuffer would subscribe on creation).  Every
wait is on the event meant, bounded; no sleeps.
"""

import threading

import pytest

import _bleio

bluetooth = pytest.importorskip("bluetooth")
local = pytest.importorskip("bleboard.radio.local")

_IRQ_PERIPHERAL_CONNECT = 7
_IRQ_PERIPHERAL_DISCONNECT = 8
_IRQ_GATTC_WRITE_DONE = 17
_IRQ_GATTC_NOTIFY = 18
SVC = _bleio.UUID(0xFC00)
PKT = _bleio.UUID(0xFC01)
C = _bleio.Characteristic
T = 5


class RawCentral:
    """A MicroPython-API central that records what it is told."""

    def __init__(self, radio):
        self.ble = bluetooth.BLE.new(radio=radio)
        self.ble.active(True)
        self.conn = None
        self.notified = []
        self._cond = threading.Condition()
        self._events = []
        self.ble.irq(self._irq)

    def _irq(self, event, data):
        with self._cond:
            if event == _IRQ_PERIPHERAL_CONNECT:
                self.conn = data[0]
            elif event == _IRQ_GATTC_NOTIFY:
                self.notified.append(bytes(data[2]))
            self._events.append(event)
            self._cond.notify_all()

    def expect(self, event):
        with self._cond:
            assert self._cond.wait_for(lambda: event in self._events, T), "no event %d" % event
            self._events.remove(event)

    def connect(self, periph):
        self.ble.gap_connect(*periph._ble.config("mac"))
        self.expect(_IRQ_PERIPHERAL_CONNECT)

    def write(self, handle, data):
        self.ble.gattc_write(self.conn, handle, data, 1)
        self.expect(_IRQ_GATTC_WRITE_DONE)

    def notification(self):
        self.expect(_IRQ_GATTC_NOTIFY)
        return self.notified.pop(0)

    def disconnect(self):
        self.ble.gap_disconnect(self.conn)
        self.expect(_IRQ_PERIPHERAL_DISCONNECT)


@pytest.fixture
def server():
    radio = local.LocalRadio(latency="fast")
    periph = _bleio.Adapter._with_ble(bluetooth.BLE.new(radio=radio))
    _bleio._adapter.current[0] = periph
    try:
        svc = _bleio.Service(SVC)
    finally:
        _bleio._adapter.current[0] = _bleio.adapter
    char = C.add_to_service(svc, PKT, properties=C.NOTIFY | C.WRITE | C.WRITE_NO_RESPONSE, max_length=20)
    buf = _bleio.PacketBuffer(char, buffer_size=4)
    periph.start_advertising(b"\x02\x01\x06", interval=0.02)
    centrals = []

    def central():
        c = RawCentral(radio)
        centrals.append(c)
        if not periph.advertising:
            periph.start_advertising(b"\x02\x01\x06", interval=0.02)
        c.connect(periph)
        assert _bleio._wait.until(lambda: len(periph.connections) == len(centrals), T)
        return c

    yield periph, char, buf, central
    for c in centrals:
        c.ble.active(False)
    periph.enabled = False
    radio.close()


def _packets(buf):
    out = bytearray(20)
    got = []
    while True:
        n = buf.readinto(out)
        if not n:
            return got
        got.append(bytes(out[:n]))


def test_write_goes_to_the_client_that_wrote(server):
    periph, char, buf, central = server
    with pytest.raises(ConnectionError):
        buf.write(b"nobody yet")
    a = central()
    a.write(char._handle, b"hello")
    assert _bleio._wait.until(lambda: buf._packets, T)
    assert _packets(buf) == [b"hello"]
    assert buf.write(b"answer") == 6  # no subscription: CircuitPython answers the writer
    assert a.notification() == b"answer"
    assert buf.write("text") == 4  # a str is a buffer, as in CircuitPython
    assert a.notification() == b"text"
    assert buf.write(b"!", header="hdr:") == 5
    assert a.notification() == b"hdr:!"


def test_last_subscriber_takes_over_and_leaving_unbinds(server):
    periph, char, buf, central = server
    a = central()
    b = central()
    a.write(char._handle, b"from a")
    b.write(char._handle, b"from b")  # a wrote first: b is not heard
    assert _bleio._wait.until(lambda: buf._packets, T)
    assert _packets(buf) == [b"from a"]
    b.write(char._handle + 1, b"\x01\x00")  # b subscribes: it takes over
    buf.write(b"to b")
    assert b.notification() == b"to b"
    a.write(char._handle, b"a again")
    b.write(char._handle, b"b again")
    assert _bleio._wait.until(lambda: buf._packets, T)
    assert _packets(buf) == [b"b again"]
    b.write(char._handle + 1, b"\x00\x00")  # b unsubscribes: nobody is bound
    with pytest.raises(ConnectionError):
        buf.write(b"nobody")
    a.write(char._handle, b"a binds")
    assert _bleio._wait.until(lambda: buf._packets, T)
    assert _packets(buf) == [b"a binds"]
    buf.write(b"to a")
    assert a.notification() == b"to a"
    a.disconnect()  # the bound client leaves
    assert _bleio._wait.until(lambda: len(periph.connections) == 1, T)
    with pytest.raises(ConnectionError):
        buf.write(b"gone")
    assert a.notified == [] and b.notified == []


def test_write_needs_an_outgoing_property(server):
    periph, char, buf, central = server
    svc = char.service
    inbound = C.add_to_service(svc, _bleio.UUID(0xFC02), properties=C.WRITE, max_length=20)
    with pytest.raises(_bleio.BluetoothError, match="Writes not supported"):
        _bleio.PacketBuffer(inbound, buffer_size=1).write(b"x")


def test_address_takes_str():
    assert _bleio.Address("abcdef", _bleio.Address.PUBLIC).address_bytes == b"abcdef"
    with pytest.raises(ValueError):
        _bleio.Address("abc", _bleio.Address.PUBLIC)
    with pytest.raises(TypeError):
        _bleio.Address(123456, _bleio.Address.PUBLIC)


def test_every_buffer_argument_takes_str(server):
    # CircuitPython reads these with mp_get_buffer_raise, which takes a str as its UTF-8 bytes;
    # a write-only buffer (readinto) does not.
    periph, char, buf, central = server
    svc = char.service
    readable = C.add_to_service(svc, _bleio.UUID(0xFC03), properties=C.READ, max_length=8, initial_value="init")
    assert readable.value == b"init"
    readable.value = "caf\u00e9"
    assert readable.value == "caf\u00e9".encode()
    desc = _bleio.Descriptor.add_to_characteristic(readable, _bleio.UUID(0xFC04), max_length=4, initial_value="d")
    desc.value = "dd"
    assert desc.value == b"dd"
    periph.stop_advertising()
    periph.start_advertising("\x02\x01\x06", scan_response="\x03\x09ab", interval=0.02)
    periph.stop_advertising()
    with pytest.raises(TypeError):
        buf.readinto("not writable")
    with pytest.raises(TypeError):
        buf.write(5)
