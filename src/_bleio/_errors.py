"""`_bleio` exceptions and the one place that turns port and ATT failures into them."""


try:
    ConnectionError = ConnectionError  # CPython and CircuitPython have it built in
except NameError:  # MicroPython does not

    class ConnectionError(OSError):
        """The connection to the peer is gone."""


class BluetoothError(Exception):
    """Catchall exception for Bluetooth related errors."""


class RoleError(BluetoothError):
    """A resource was used in the wrong role (e.g. setting the CCCD of a local characteristic)."""


class SecurityError(BluetoothError):
    """A security related error occurred (pairing failed, insufficient authentication...)."""


# ATT error codes (Core spec Vol 3 Part F 3.4.1.1) that mean "secure the link first".
_SECURITY_CODES = (0x05, 0x08, 0x0C, 0x0F)

_ATT_NAMES = {
    0x01: "invalid handle",
    0x02: "read not permitted",
    0x03: "write not permitted",
    0x04: "invalid PDU",
    0x05: "insufficient authentication",
    0x06: "request not supported",
    0x07: "invalid offset",
    0x08: "insufficient authorization",
    0x09: "prepare queue full",
    0x0A: "attribute not found",
    0x0B: "attribute not long",
    0x0C: "insufficient encryption key size",
    0x0D: "invalid attribute value length",
    0x0E: "unlikely error",
    0x0F: "insufficient encryption",
    0x10: "unsupported group type",
    0x11: "insufficient resources",
}


# NimBLE host codes that can end a GATT procedure (spec/bluetooth.md 2.2)
_HS_ENOTCONN = 7
_HS_ETIMEOUT = 13


def att_error(what, status):
    """Exception for a failed GATT procedure; `status` is NimBLE's: 0x100 + ATT code, or a host code."""
    if status == _HS_ENOTCONN:
        return not_connected()
    if status == _HS_ETIMEOUT:
        return BluetoothError("%s failed: timeout" % what)
    if not 0x100 < status < 0x200:
        return BluetoothError("%s failed: status %d" % (what, status))
    code = status - 0x100
    name = _ATT_NAMES.get(code)
    if name is None:
        return BluetoothError("%s failed: status %d" % (what, status))
    text = "%s failed: ATT error 0x%02x (%s)" % (what, code, name)
    if code in _SECURITY_CODES:
        return SecurityError(text)
    return BluetoothError(text)


def not_connected():
    return ConnectionError("Connection has been disconnected and can no longer be used.")


def needs_extension(feature, extension):
    """NotImplementedError for a feature the board's `bluetooth` module lacks."""
    return NotImplementedError("%s needs the bleboard port extension %s" % (feature, extension))


def from_oserror(what, exc):
    """Map an OSError from the port to a `_bleio` exception."""
    errno = exc.args[0] if exc.args else 0
    if errno == 107:  # ENOTCONN
        return not_connected()
    return BluetoothError("%s failed: %s" % (what, exc))
