"""`bleboard run` gives programs MicroPython's json writer (extmod/modjson.c printing with
PRINT_JSON): bytes are dumped as strings, objects without a JSON form as their repr, text
unescaped.  The expected strings below are what MicroPython's printer produces for each
case; the host's own json calls (indent, sort_keys ...) keep CPython's behaviour."""

import io
import json
import textwrap

import pytest

from boardrun import run_board
from bleboard.runtime import mpjson


@pytest.mark.parametrize(
    "obj,text",
    [
        ({"k": b"AAEC\n"}, '{"k": "AAEC\\n"}'),
        ([1, True, False, None, 1.5, -2], "[1, true, false, null, 1.5, -2]"),
        ((1, (2, 3)), "[1, [2, 3]]"),
        ("caf\u00e9 \"q\" \\", '"caf\u00e9 \\"q\\" \\\\"'),  # non-ASCII as is
        ("\x01\x1f\x7f\t\r\n", '"\\u0001\\u001f\x7f\\t\\r\\n"'),
        (b"\x00\"", '"\\u0000\\""'),
        ({1: "a", None: 2, 2.5: 3}, '{"1": "a", "null": 2, "2.5": 3}'),
        ({b"raw": 1}, '{"raw": 1}'),  # bytes keys are strings already: no extra quotes
        ({(1, 2): 0}, '{"[1, 2]": 0}'),
        (bytearray(b"ab"), "bytearray(b'ab')"),  # printed, not encoded: not valid JSON
        ([{1, 2}], "[{1, 2}]"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (1e20, "1e+20"),
    ],
)
def test_dumps_prints_like_micropython(obj, text):
    assert mpjson.dumps(obj) == text


def test_separators_and_errors():
    assert mpjson.dumps({"a": [1, 2]}, separators=(",", ":")) == '{"a":[1,2]}'
    with pytest.raises(ValueError, match="separators"):
        mpjson.dumps([], separators=(",",))
    with pytest.raises(TypeError, match="separators"):
        mpjson.dumps([], separators=",:")
    with pytest.raises(TypeError):
        mpjson.dumps([], separators=(1, 2))
    with pytest.raises(OSError):
        mpjson.dump([], object())


def test_dump_to_text_and_binary_streams():
    text, raw = io.StringIO(), io.BytesIO()
    mpjson.dump([b"x", "\u00e9"], text)
    mpjson.dump([b"x", "\u00e9"], raw)
    assert text.getvalue() == '["x", "\u00e9"]'
    assert raw.getvalue() == '["x", "\u00e9"]'.encode()


def test_cpython_only_arguments_go_to_cpython():
    assert mpjson.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    assert mpjson.dumps(["\u00e9"], indent=1) == json.dumps(["\u00e9"], indent=1)
    with pytest.raises(TypeError):
        mpjson.dumps(b"x", default=None)  # CPython's encoder: bytes are not JSON there
    out = io.StringIO()
    mpjson.dump({"b": 1}, out, indent=2)
    assert out.getvalue() == '{\n  "b": 1\n}'


def test_non_utf8_bytes_round_trip_through_the_binding_conversion():
    from bluetooth import _args

    raw = bytes(range(0x7A, 0x90))
    back = json.loads(mpjson.dumps({"v": raw}))["v"]
    assert _args.to_bytes(back) == raw


# An application bond store written the way upstream aioble's security module writes its
# own: bytes made printable with binascii.b2a_base64 (still bytes, with a trailing newline)
# go straight into json.dump; loading gives str, which a2b_base64 takes back.
STORE = textwrap.dedent(
    r"""
    import binascii, json, os
    import ujson

    PATH = "secrets.json"
    secrets = {
        (2, b"\x00\x11\x22\x33\x44\x55\x66"): b"\x10" * 40,
        (3, b"\x01\x02\x03\x04\x05\x06\x07"): b"\xfe\xff" * 8,
    }

    def save():
        with open(PATH, "w") as f:
            json.dump([(t, binascii.b2a_base64(k), binascii.b2a_base64(v)) for (t, k), v in secrets.items()], f)

    def load():
        with open(PATH) as f:
            return {(t, binascii.a2b_base64(k)): binascii.a2b_base64(v) for t, k, v in json.load(f)}

    save()
    print("round trip", load() == secrets)
    by_key = {"name": b"caf\xc3\xa9", "irk": binascii.hexlify(b"\x01\x02"), "n": 3}
    text = ujson.dumps(by_key)
    print(text)
    print("dict", json.loads(text) == {"name": "caf\u00e9", "irk": "0102", "n": 3})
    print(json.dumps(bytearray(b"x")), json.dumps({"a": "\u00e9"}))
    print(json.dumps({"b": 1, "a": 2}, sort_keys=True))
    os.remove(PATH)
    """
)


def test_bond_store_pattern_under_bleboard_run(tmp_path):
    r = run_board("-c", STORE, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "round trip True",
        '{"name": "caf\u00e9", "irk": "0102", "n": 3}',
        "dict True",
        "bytearray(b'x') {\"a\": \"\u00e9\"}",
        '{"a": 2, "b": 1}',
    ]
