"""MicroPython's `json.dump` / `json.dumps` for board programs.

MicroPython's json writer prints objects rather than encoding them (extmod/modjson.c),
so it never raises for a type JSON lacks, and board code relies on that:
  * bytes are written as JSON strings of their bytes (upstream aioble's bond store
    dumps `binascii.b2a_base64(...)` values that way);
  * other objects without a JSON form are written as their repr (a bytearray gives
    `bytearray(b'...')`, which is not valid JSON: the same text a board writes);
  * non-ASCII text is written as is, not as `\\uXXXX`; control characters other than
    \\n, \\r and \\t become `\\u00XX`;
  * dict keys that are not str or bytes are written in quotes (`{"1": 2}`);
  * floats print as MicroPython prints them (`nan`, `inf`).

`install()` puts these on the standard `json` module.  A call with any argument
MicroPython's json does not have (indent, sort_keys, default, cls, ...) is CPython code,
such as the host libraries running in the same process, and goes to CPython's own
function unchanged.  Loading is CPython's (it reads everything MicroPython writes).
"""

import json

_cpython = {"dumps": json.dumps, "dump": json.dump}  # CPython's own, for CPython-only arguments


def _string(text, out):
    """mp_str_print_json: quote and backslash escaped, control characters as \\uXXXX."""
    out.append('"')
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch >= " ":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append("\\u%04x" % ord(ch))
    out.append('"')


def _bytes_text(data):
    # A board's str and bytes are both byte strings: bytes that are not UTF-8 stay
    # recoverable here as surrogates (bluetooth's buffer conversion gives them back).
    return bytes(data).decode("utf-8", "surrogateescape")


def _write(obj, out, item_sep, key_sep):
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        _string(obj, out)
    elif isinstance(obj, bytes):
        _string(_bytes_text(obj), out)
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        out.append(float.__repr__(obj))
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(item_sep)
            _write(item, out, item_sep, key_sep)
        out.append("]")
    elif isinstance(obj, dict):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            if i:
                out.append(item_sep)
            quote = not isinstance(key, (str, bytes))
            if quote:
                out.append('"')
            _write(key, out, item_sep, key_sep)
            if quote:
                out.append('"')
            out.append(key_sep)
            _write(value, out, item_sep, key_sep)
        out.append("}")
    else:
        out.append(repr(obj))  # printed, as MicroPython prints objects it has no JSON form for


def _separators(separators):
    if separators is None:
        return ", ", ": "
    if not isinstance(separators, (tuple, list)):
        raise TypeError("separators must be a tuple or list of 2 str")
    if len(separators) != 2:
        raise ValueError("separators must have 2 items, not %d" % len(separators))
    item_sep, key_sep = separators
    if not isinstance(item_sep, str) or not isinstance(key_sep, str):
        raise TypeError("separators must be a pair of str")
    return item_sep, key_sep


def _text(obj, separators):
    out = []
    _write(obj, out, *_separators(separators))
    return "".join(out)


def dumps(obj, *args, **kwargs):
    """`json.dumps(obj, separators=None)` as MicroPython writes it."""
    if args or any(k != "separators" for k in kwargs):
        return _cpython["dumps"](obj, *args, **kwargs)
    return _text(obj, kwargs.get("separators"))


def dump(obj, stream, *args, **kwargs):
    """`json.dump(obj, stream, separators=None)`: to a text or a binary stream, as on a board."""
    if args or any(k != "separators" for k in kwargs):
        return _cpython["dump"](obj, stream, *args, **kwargs)
    if not hasattr(stream, "write"):
        raise OSError(22, "stream operation not supported")  # mp_get_stream_raise: EINVAL
    text = _text(obj, kwargs.get("separators"))
    try:
        stream.write(text)
    except TypeError:  # a binary stream: MicroPython's streams all take the bytes
        stream.write(text.encode("utf-8", "surrogateescape"))
    return None


def install(module=json):
    """Give `module` (the standard json) MicroPython's writer; idempotent."""
    module.dumps = dumps
    module.dump = dump
