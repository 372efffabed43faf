"""One place that turns port failures into MicroPython's OSError(errno)."""

import errno as _errno

from ._port import (
    E2BIG, EAGAIN, EALREADY, EBUSY, EINVAL, EIO, ENODEV, ENOENT, ENOMEM, ENOTCONN, EOPNOTSUPP, EPERM, ETIMEDOUT,
)

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
