"""Pairing and bonding: pair(), and the stack's secrets kept in a JSON file.

The stack asks for and hands over opaque secrets (_IRQ_GET_SECRET /
_IRQ_SET_SECRET); we keep them in memory in insertion order and, once
load_secrets() named a file, write the file after every change.  A file that
cannot be parsed is reported and never overwritten.  The side that does not call
pair() allows bonding with aioble.config(bond=True).
"""

from binascii import hexlify, unhexlify

from .compat import const
from .core import ble, wait, handle

_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)
_IRQ_PASSKEY_ACTION = const(31)

limit = 8  # most secrets kept per type (one per bonded peer); the oldest goes first
on_passkey = None  # fn(connection, action, passkey) -> answer for gap_passkey (io other than 3)

_secrets = []  # [sec_type, key, value], oldest first
_path = None


def load_secrets(path="ble_secrets.json"):
    """Use `path` for the bonds: load it if it exists, save to it from now on."""
    global _path
    import json

    _path = None
    try:
        f = open(path)
    except OSError:  # no file yet: first bond creates it
        _secrets.clear()
        _path = path
        return
    try:
        with f:
            entries = [[int(t), unhexlify(k), unhexlify(v)] for t, k, v in json.load(f)]
    except Exception as e:
        raise ValueError("corrupt secrets file %r (%s); not using it" % (path, e))
    _secrets.clear()
    _secrets.extend(entries)
    _path = path


def _save():
    if _path:
        import json

        with open(_path, "w") as f:
            json.dump([[t, hexlify(k).decode(), hexlify(v).decode()] for t, k, v in _secrets], f)


def _find(sec_type, key):
    for e in _secrets:
        if e[0] == sec_type and e[1] == key:
            return e


def _irq(event, data):
    if event == _IRQ_PASSKEY_ACTION:
        from .device import _connected

        conn_handle, action, passkey = data
        if on_passkey:
            ble().gap_passkey(conn_handle, action, on_passkey(_connected.get(conn_handle), action, passkey))
        return
    if event == _IRQ_GET_SECRET:
        sec_type, index, key = data
        if key is None:  # enumerate: the index-th secret of this type
            found = [e[2] for e in _secrets if e[0] == sec_type]
            return found[index] if index < len(found) else None
        e = _find(sec_type, bytes(key))
        return e and e[2]
    sec_type, key, value = data
    key = bytes(key)
    e = _find(sec_type, key)
    if e:
        _secrets.remove(e)
    if value is None:  # delete
        if e:
            _save()
        return bool(e)
    same = [x for x in _secrets if x[0] == sec_type]
    if len(same) >= limit:
        _secrets.remove(same[0])
    _secrets.append([sec_type, key, bytes(value)])
    _save()
    return True


async def _pair(connection, bond=True, le_secure=True, mitm=False, io=3, timeout_ms=20000):
    """Pair (and bond) on this connection; returns when the link is encrypted."""
    if io not in (0, 1, 2, 3, 4):
        raise ValueError("io must be 0..4, not %r" % (io,))
    connection._check()
    b = ble()
    b.config(bond=bool(bond), le_secure=bool(le_secure), mitm=bool(mitm), io=io)
    seen = connection._enc
    b.gap_pair(connection._conn_handle)
    await wait(connection, lambda: connection._check() or connection._enc != seen, timeout_ms)
    if not connection.encrypted:
        raise OSError(13, "EACCES")  # pairing failed: the link is not encrypted


handle(_irq, _IRQ_GET_SECRET, _IRQ_SET_SECRET, _IRQ_PASSKEY_ACTION)
