"""One place that turns port failures into MicroPython's OSError(errno)."""

import errno as _errno

EPERM = 1
ENOENT = 2
EIO = 5
E2BIG = 7
EAGAIN = 11
ENOMEM = 12
EBUSY = 16
ENODEV = 19
EINVAL = 22
EOPNOTSUPP = 95
ENOTCONN = 107
ETIMEDOUT = 110
EALREADY = 114

_NAMES = {
    EPERM: "EPERM", ENOENT: "ENOENT", EIO: "EIO", E2BIG: "E2BIG", EAGAIN: "EAGAIN",
    ENOMEM: "ENOMEM", EBUSY: "EBUSY", ENODEV: "ENODEV", EINVAL: "EINVAL",
    EOPNOTSUPP: "EOPNOTSUPP", ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT", EALREADY: "EALREADY",
}


def oserror(num, detail=None):
    """OSError printed as MicroPython prints it: `[Errno 19] ENODEV` (plus why, when we know)."""
    name = _NAMES.get(num) or _errno.errorcode.get(abs(num), str(num))
    if detail:
        name = "%s: %s" % (name, detail)
    return OSError(num, name)


class PortError(Exception):
    """Raised by a port with a MicroPython errno; the binding re-raises it as OSError."""

    def __init__(self, num, detail=None):
        super().__init__(num, detail)
        self.errno = num
        self.detail = detail


# Status values seen in *_DONE events (NimBLE encodings, spec §2.2/§3.11).
STATUS_OK = 0
STATUS_ENOTCONN = 7  # BLE_HS_ENOTCONN: connection lost during a procedure
STATUS_ETIMEOUT = 13  # BLE_HS_ETIMEOUT
STATUS_ATT_BASE = 0x100
STATUS_HCI_BASE = 0x200
