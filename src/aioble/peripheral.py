"""Broadcaster and peripheral roles: advertising payloads, advertise() and incoming connections."""

from bluetooth import UUID

from .compat import asyncio, const
from .core import ble, wait, handle, wake, _stoppers
from .device import Device, DeviceConnection, _lost

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)

_ADV_TYPE_FLAGS = const(0x01)
_ADV_TYPE_NAME = const(0x09)
_ADV_TYPE_APPEARANCE = const(0x19)
_ADV_TYPE_MANUFACTURER = const(0xFF)

_ADV_MAX = const(31)  # legacy advertising PDU payload

_incoming = []  # connections from centrals that no advertise() has returned yet
_advertising = False


def _ad(ad_type, value):
    return bytes((len(value) + 1, ad_type)) + value


def _split_raw(data):
    # The AD structures of a raw payload, so an oversized one can be split.
    out = []
    i = 0
    while i < len(data):
        n = data[i] + 1
        if n == 1 or i + n > len(data):
            raise ValueError("adv_data is not a valid advertising payload")
        out.append(bytes(data[i : i + n]))
        i += n
    return out


def _payloads(adv_data, resp_data, limited_disc, br_edr, name, services, appearance, manufacturer):
    """(adv_data, resp_data) for advertise(): fields that do not fit go to the scan response."""
    if adv_data is None:
        fields = [_ad(_ADV_TYPE_FLAGS, bytes(((0x01 if limited_disc else 0x02) | (0 if br_edr else 0x04),)))]
        if name:
            if not isinstance(name, str):
                raise TypeError("name must be a str")
            fields.append(_ad(_ADV_TYPE_NAME, name.encode()))
        if services:
            lists = {2: b"", 4: b"", 16: b""}
            for u in services:
                if not isinstance(u, UUID):
                    raise TypeError("services must be bluetooth.UUID objects, not %r" % (u,))
                u = bytes(u)
                lists[len(u)] += u
            for n, ad_type in ((2, 0x03), (4, 0x05), (16, 0x07)):  # complete lists
                if lists[n]:
                    fields.append(_ad(ad_type, lists[n]))
        if appearance:
            fields.append(_ad(_ADV_TYPE_APPEARANCE, bytes((appearance & 0xFF, appearance >> 8 & 0xFF))))
        if manufacturer:
            company, data = manufacturer
            fields.append(_ad(_ADV_TYPE_MANUFACTURER, bytes((company & 0xFF, company >> 8 & 0xFF)) + bytes(data)))
    elif len(adv_data) > _ADV_MAX and resp_data is None:
        fields = _split_raw(adv_data)
    else:
        return adv_data, b"" if resp_data is None else resp_data
    adv = resp = b""
    for f in fields:
        if len(adv) + len(f) <= _ADV_MAX:
            adv += f
        elif resp_data is None and len(resp) + len(f) <= _ADV_MAX:
            resp += f
        else:
            raise ValueError("advertising data too long: %r does not fit" % (f,))
    return adv, resp if resp_data is None else resp_data


async def advertise(
    interval_us,
    adv_data=None,
    resp_data=None,
    connectable=True,
    limited_disc=False,
    br_edr=False,
    name=None,
    services=None,
    appearance=0,
    manufacturer=None,
    timeout_ms=None,
):
    """Advertise until a central connects and return its DeviceConnection.

    The advertisement lasts exactly as long as this call: it stops at the
    timeout (asyncio.TimeoutError) or when the task is cancelled.  A
    non-connectable advertisement cannot end in a connection: it runs for
    timeout_ms (None: until cancelled) and then returns None.
    """
    global _advertising
    if _advertising:
        raise OSError(114, "EALREADY")  # another task is advertising
    adv_data, resp_data = _payloads(adv_data, resp_data, limited_disc, br_edr, name, services, appearance, manufacturer)
    if connectable:
        while _incoming and not _incoming[0].is_connected():
            _incoming.pop(0)  # ended before any advertise() was waiting for it
        if _incoming:
            return _incoming.pop(0)
    b = ble()
    b.gap_advertise(interval_us, adv_data, resp_data=resp_data, connectable=connectable)
    _advertising = True
    try:
        if connectable:
            await wait(_incoming, lambda: _incoming, timeout_ms)
            return _incoming.pop(0)
        try:
            await wait(_incoming, lambda: False, timeout_ms)
        except asyncio.TimeoutError:
            pass  # a broadcast simply ends at its timeout
    finally:
        if _advertising:
            _advertising = False
            b.gap_advertise(None)  # no-op once a central connected (advertising stopped)


def _irq(event, data):
    conn_handle, addr_type, addr = data
    if event == _IRQ_CENTRAL_CONNECT:
        c = DeviceConnection(Device(addr_type, bytes(addr)))
        c._start(conn_handle)
        _incoming.append(c)
        wake(_incoming)
    else:
        _lost(conn_handle)
        # While advertise() waits, a connection that is already over is still its result:
        # the central did connect, and that stopped the advertising, so nothing else can
        # come. (Both events can be handled before the task runs again: a slow handler, a
        # busy core.) With nobody waiting, it is forgotten.
        if not _advertising:
            for c in _incoming:
                if c._conn_handle is None:
                    _incoming.remove(c)
                    break


def _stop():
    global _advertising
    _advertising = False
    _incoming.clear()


handle(_irq, _IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT)
_stoppers.append(_stop)
