"""L2CAP connection-oriented channel methods of bluetooth.BLE (spec §3.13).

Kept apart from _ble.py: MicroPython builds without L2CAP have none of these methods, and
tests gate on `hasattr(bluetooth.BLE, "l2cap_connect")`.

As on NimBLE there is one channel per radio in total, and listening occupies it for good.
The extension `l2cap_max_channels(n)` (not in MicroPython) allows up to n channels at once,
on one connection or several; listening then takes none of them and several PSMs may be
listened on; a connect beyond n raises OSError(ENOMEM).
Choices where MicroPython leaves the behaviour open (spec §8.10 and issue 3):
* every method raises OSError(ENODEV) while the radio is inactive;
* PSM 0 is not a valid LE PSM: OSError(EINVAL);
* l2cap_send on the channel that just closed raises OSError(ENOTCONN) (EINVAL for a CID
  that never existed), so a sender waiting for _IRQ_L2CAP_SEND_READY learns why;
* sending an empty buffer sends nothing and returns True;
* the peer may send a window of a few SDUs (about 64 KB, 4-64 SDUs) before it needs the
  credits that only a drained receive buffer gives back; NimBLE's window is one SDU.
"""

from . import _args
from ._api import _api, _positional, _positional_only
from ._errors import oserror
from ._port import EINVAL

MIN_MTU = 32
MAX_MTU = 65535
MAX_CHANNELS = 16


def _mtu(value):
    return min(max(_args.to_int(value, "mtu"), MIN_MTU), MAX_MTU)


def _psm(value):
    psm = _args.u16(value, "psm")
    if psm == 0:
        raise oserror(EINVAL, "psm must not be 0")
    return psm


def _writable(buf):
    try:
        view = memoryview(buf)
    except TypeError:
        raise TypeError("object with buffer protocol required (buf)") from None
    if view.readonly:
        raise TypeError("buf must be a writable buffer (bytearray, memoryview, array)")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


class L2capMethods:
    @_positional_only(2)
    @_api
    def l2cap_listen(self, psm, mtu):
        port = self._active_port()
        port.l2cap.listen(_psm(psm), _mtu(mtu))

    @_positional_only(3)
    @_api
    def l2cap_connect(self, conn_handle, psm, mtu):
        port = self._active_port()
        port.l2cap.connect(_args.u16(conn_handle, "conn_handle"), _psm(psm), _mtu(mtu))

    @_positional_only(2)
    @_api
    def l2cap_disconnect(self, conn_handle, cid):
        port = self._active_port()
        port.l2cap.disconnect(_args.u16(conn_handle, "conn_handle"), _args.u16(cid, "cid"))

    @_positional_only(3)
    @_api
    def l2cap_send(self, conn_handle, cid, buf):
        port = self._active_port()
        conn, chan = _args.u16(conn_handle, "conn_handle"), _args.u16(cid, "cid")
        return port.l2cap.send(conn, chan, _args.to_bytes(buf, "buf"))

    @_positional_only(3)
    @_api
    def l2cap_recvinto(self, conn_handle, cid, buf):
        port = self._active_port()
        conn, chan = _args.u16(conn_handle, "conn_handle"), _args.u16(cid, "cid")
        return port.l2cap.recvinto(conn, chan, None if buf is None else _writable(buf))

    @_api
    def l2cap_max_channels(self, *args):
        """Extension: how many L2CAP channels may be open at once (MicroPython: 1)."""
        if args and not isinstance(args[0], int):
            raise TypeError("can't convert %s to int (count)" % type(args[0]).__name__)
        _positional("l2cap_max_channels", args, 0, 1)
        port = self._active_port()
        if not args:
            return port.l2cap.max_channels
        if not 1 <= args[0] <= MAX_CHANNELS:
            raise ValueError("count must be 1-%d" % MAX_CHANNELS)
        port.l2cap.set_max_channels(int(args[0]))
        return None
