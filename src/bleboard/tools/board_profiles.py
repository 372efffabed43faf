"""Board profiles: the limits and features of the BLE stack a board's firmware carries.

A virtual board started with `--board ID` (or BLEBOARD_BOARD, or `-i virtual:ID`) takes
them on, so a program meets the same connection limit, MTU cap, default intervals and
missing methods as on that board. The data lives in board_profiles.json, keyed by stack
family; a board maps to its family through the board database (boards.py).
"""

import json
import os

from bleboard.tools import boards

_PATH = os.path.join(os.path.dirname(__file__), "board_profiles.json")
ENV = "BLEBOARD_BOARD"

# BLE methods each feature brings; a firmware built without the feature has none of them
FEATURE_METHODS = {
    "central": ("gap_scan", "gap_connect"),
    "gatt_client": ("gattc_discover_services", "gattc_discover_characteristics", "gattc_discover_descriptors",
                    "gattc_read", "gattc_write", "gattc_exchange_mtu"),
    "pairing": ("gap_pair", "gap_passkey"),
    "l2cap": ("l2cap_listen", "l2cap_connect", "l2cap_disconnect", "l2cap_send", "l2cap_recvinto"),
    # bleboard's own additions to MicroPython's API (not on any firmware); _bleio uses them
    # to do what CircuitPython's native _bleio does itself
    "extensions": ("gap_connection_update", "gap_connection_info", "gatts_set_length", "gatts_get_cccd",
                   "l2cap_max_channels"),
}
_ERRNO = {"ENOMEM": 12, "ENOTCONN": 107, "EBUSY": 16}

_cache = None


class UnknownProfile(ValueError):
    """No stack profile for that board or family name."""


def load():
    """The whole profile file (families and the board-to-family map)."""
    global _cache
    if _cache is None:
        with open(_PATH, encoding="utf-8") as f:
            _cache = json.load(f)
    return _cache


def families():
    return load()["families"]


def family_of(board):
    """The stack family of one board record, or UnknownProfile."""
    name = load()["by_ble"].get(board["ble"])
    if name is None:
        raise UnknownProfile("no stack profile for board %r (BLE stack %s)" % (board["id"], board["ble"]))
    return name


def resolve(text):
    """(family name, profile) for a family name or a board id/name."""
    key = str(text).strip().lower()
    if key in families():
        return key, families()[key]
    try:
        board = boards.get(key)
    except boards.UnknownBoard as e:
        raise UnknownProfile("unknown board or stack family %r: %s; families: %s"
                             % (text, str(e).split("; ", 1)[-1], ", ".join(sorted(families())))) from None
    name = family_of(board)
    return name, families()[name]


def settings(text):
    """What the port and the binding apply for a board: plain values, errno as a number."""
    name, p = resolve(text)
    return {
        "family": name,
        "max_connections": p.get("max_connections"),
        "full_errno": _ERRNO[p.get("full_errno") or "ENOMEM"],
        "full_refuses": tuple(p.get("full_refuses") or ()),
        "mtu": p.get("mtu"),
        "max_mtu": p.get("max_mtu"),
        "conn_interval_us": tuple(p["conn_interval_us"]) if p.get("conn_interval_us") else None,
        "features": frozenset(f for f, on in p.get("features", {}).items() if on),
    }


def from_env(environ=None):
    """The profile named by BLEBOARD_BOARD, or None when unset."""
    text = (environ if environ is not None else os.environ).get(ENV, "").strip()
    return settings(text) if text else None


def describe(text):
    """The `bleboard boards --features ID` table."""
    name, p = resolve(text)
    src = p.get("sources", {})
    rows = [
        ("max connections", p.get("max_connections"), src.get("max_connections")),
        ("when full", "%s on %s" % (p.get("full_errno"), ", ".join(p.get("full_refuses") or ["-"])),
         src.get("full_errno")),
        ("default MTU", p.get("mtu"), src.get("mtu")),
        ("max MTU", p.get("max_mtu"), src.get("max_mtu")),
        ("conn interval us", "-".join(str(v) for v in p["conn_interval_us"]) if p.get("conn_interval_us") else None,
         src.get("conn_interval_us")),
    ]
    for feature in FEATURE_METHODS:
        rows.append((feature, "yes" if p.get("features", {}).get(feature) else "no", None))
    lines = ["%s  (%s firmware)" % (p["title"], p["firmware"]), "  family: %s" % name]
    for label, value, where in rows:
        shown = "not modelled" if value is None else value
        lines.append("  %-17s %s" % (label + ":", shown))
        if where:
            lines.append("  %-17s   from %s" % ("", where))
    if src.get("features"):
        lines.append("  features from %s" % src["features"])
    return "\n".join(lines)
