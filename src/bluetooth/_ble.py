"""bluetooth.BLE: MicroPython's API, argument checks and errors (the "binding").

Every method checks and converts its arguments as modbluetooth.c does (spec §2-§3), then
calls the port, which trusts its inputs. Failures from the port arrive as PortError and
leave here as OSError(errno). While a method runs on the main thread, irq delivery is
held back until it returns: a BLE call is atomic on a board.
"""

import sys
import threading

from . import _args, _events
from ._api import _api, _positional, _positional_only
from ._ble_l2cap import L2capMethods
from ._ble_security import SecurityMethods
from ._errors import oserror
from ._gattsdb import GattsDB
from ._port import E2BIG, EINVAL, ENODEV, ENOTCONN, PortError
from ._sink import Sink
from ._uuid import UUID

_CONFIG_KEYS = ("mac", "addr_mode", "gap_name", "mtu", "rxbuf", "bond", "mitm", "io", "le_secure")
_EXT_CONFIG_KEYS = ("advertising", "tx_power")
DEFAULT_GAP_NAME = b"MPY NIMBLE"
DEFAULT_MTU = 256


class BLE(SecurityMethods, L2capMethods):
    """The radio. `BLE()` is the per-process singleton; `BLE.new()` makes independent ones."""

    _singleton = None
    _singleton_lock = threading.Lock()

    def __new__(cls, *args, **kwargs):
        with cls._singleton_lock:
            if cls._singleton is None:
                cls._singleton = cls._create({})
            return cls._singleton

    def __init__(self, *args, **kwargs):
        pass  # MicroPython ignores all constructor arguments

    @classmethod
    def new(cls, **options):
        """Extension: an independent radio object (own controller), for tests, tools and _bleio.

        `port_factory(options) -> Port` and `scheduler` replace the defaults (the Bumble port,
        the process scheduler); every other option goes to the port.
        """
        return cls._create(options)

    @classmethod
    def _soft_reset(cls):
        """A board's soft reset: radio off, and a fresh singleton (no irq handler, default
        config) that keeps the old one's port, so the board keeps its address."""
        with cls._singleton_lock:
            old = cls._singleton
            if old is None:
                return
            try:
                old.active(False)
            except OSError:
                pass
            old._events.handler = None
            fresh = cls._create(dict(old._options, port_factory=old._port_factory, scheduler=old._events.sched))
            fresh._port = old._port
            cls._singleton = fresh

    @classmethod
    def _create(cls, options):
        self = object.__new__(cls)
        self._options = dict(options)
        self._port_factory = self._options.pop("port_factory", None) or _default_port_factory
        self._events = _events.EventQueue(self._options.pop("scheduler", None) or _default_scheduler())
        self._db = GattsDB()
        self._port = None
        self._settings = {"bond": False, "mitm": False, "io": 3, "le_secure": True}
        self._gap_name = DEFAULT_GAP_NAME
        self._mtu = DEFAULT_MTU
        self._adv_data = b""
        self._resp_data = b""
        self._profile = _board_profile(options)
        return self

    def __repr__(self):
        return "<BLE>"

    # ---- helpers ----------------------------------------------------------
    def _active_port(self):
        port = self._port
        if port is None or not port.is_active():
            raise oserror(ENODEV)
        return port

    def _make_port(self):
        if self._port is None:
            self._port = self._port_factory(self._options)
        return self._port

    # ---- lifecycle --------------------------------------------------------
    @_api
    def active(self, *args):
        _positional("active", args, 0, 1)
        if not args:
            return self._port is not None and self._port.is_active()
        if args[0]:
            port = self._make_port()
            if port.is_active():
                port.stop()  # NimBLE: active(True) while active is a full restart
            self._db.reset()
            self._mtu = (self._profile or {}).get("mtu") or DEFAULT_MTU
            settings = dict(self._settings)
            settings["gap_name"] = self._gap_name
            settings["mtu"] = self._mtu
            settings["profile"] = self._profile
            port.start(Sink(self._events, self._db), settings)
            self._load_identity_key()
            return True
        if self._port is not None and self._port.is_active():
            self._port.stop()
            self._db.reset()
        return False

    def _shutdown(self):
        """Stop the radio at interpreter exit without raising events."""
        port = self._port
        if port is not None:
            try:
                port.close()
            except Exception:  # best effort at exit
                pass

    # ---- config -----------------------------------------------------------
    @_api
    def config(self, *args, **kwargs):
        if args and kwargs:
            raise TypeError("can't specify pos and kw args")
        if args:
            if len(args) != 1:
                raise TypeError("must query one param")
            return self._config_get(args[0])
        if not kwargs:
            raise TypeError("must query one param")
        for key, value in kwargs.items():
            self._config_set(key, value)
        return None

    def _config_get(self, key):
        if not isinstance(key, str):
            raise TypeError("must query one param")
        if key == "mac":
            return self._active_port().own_address()
        if key == "gap_name":
            return bytes(self._gap_name)
        if key == "mtu":
            self._active_port()
            return self._mtu
        if key == "advertising":
            return self._port is not None and self._port.is_active() and self._port.is_advertising()
        if key == "tx_power":
            return self._active_port().tx_power()
        raise ValueError("unknown config param")

    def _config_set(self, key, value):
        if key == "addr_mode":
            port = self._active_port()
            mode = _args.to_int(value, "addr_mode")
            if 0 <= mode <= 3:
                port.set_addr_mode(mode)
        elif key == "gap_name":
            name = _args.to_bytes(value, "gap_name").split(b"\0", 1)[0]
            if len(name) > 31:
                raise oserror(EINVAL, "gap_name longer than 31 bytes")
            self._gap_name = name
            if self._port is not None and self._port.is_active():
                self._port.set_gap_name(name)
        elif key == "mtu":
            port = self._active_port()
            mtu = _args.u16(value, "mtu")
            if not 23 <= mtu <= 527:
                raise oserror(EINVAL, "mtu must be 23-527")
            cap = (self._profile or {}).get("max_mtu")
            if cap and mtu > cap:
                raise oserror(EINVAL, "mtu must be 23-%d on this board" % cap)
            self._mtu = mtu
            port.set_preferred_mtu(mtu)
        elif key in ("bond", "mitm", "io", "le_secure") and not _has(self, "pairing"):
            raise ValueError("unknown config param")  # pairing is compiled out on this board
        elif key in ("bond", "mitm", "le_secure"):
            self._settings[key] = bool(value)
            if self._port is not None and self._port.is_active():
                self._port.set_security(self._settings)
        elif key == "io":
            io = _args.to_int(value, "io")
            self._settings["io"] = io
            if self._port is not None and self._port.is_active():
                self._port.set_security(self._settings)
        else:
            raise ValueError("unknown config param")

    # ---- irq --------------------------------------------------------------
    def irq(self, handler):
        if handler is not None and not callable(handler):
            raise ValueError("invalid handler")
        self._events.handler = handler

    # ---- GAP --------------------------------------------------------------
    @_api
    def gap_advertise(self, interval_us=500000, adv_data=None, *, resp_data=None, connectable=True,
                      scannable=None, directed_to=None, anonymous=False, tx_power=None,
                      timeout_ms=0, extended=None):
        if interval_us is None:
            if self._port is not None and self._port.is_active():
                self._port.advertise(None, None, None, None, None)
            return None
        port = self._active_port()
        interval_us = _args.to_int(interval_us, "interval_us")
        units = interval_us // 625
        if units and not 0x20 <= units <= 0x4000:
            raise oserror(EINVAL, "interval_us must be 20000-10240000 (or < 625 for the default)")
        if adv_data is not None:
            self._adv_data = _args.to_bytes(adv_data, "adv_data")
        if resp_data is not None:
            self._resp_data = _args.to_bytes(resp_data, "resp_data")
        limit = 251 if extended else 31
        if len(self._adv_data) > limit or len(self._resp_data) > limit:
            raise oserror(EINVAL, "advertising data longer than %d bytes" % limit)
        options = {"scannable": scannable, "anonymous": bool(anonymous), "extended": bool(extended),
                   "tx_power": None if tx_power is None else _args.to_int(tx_power, "tx_power"),
                   "timeout_ms": _args.to_int(timeout_ms or 0, "timeout_ms"), "directed_to": None}
        if directed_to is not None:
            try:
                addr_type, addr = directed_to
            except (TypeError, ValueError):
                raise TypeError("directed_to must be (addr_type, addr)") from None
            options["directed_to"] = (_args.u8(addr_type, "addr_type"), _args.addr6(addr))
        port.advertise(units * 625, self._adv_data, self._resp_data, bool(connectable), options)
        return None

    @_api
    def gap_scan(self, *args):
        _positional("gap_scan", args, 0, 4)
        if args and args[0] is None:
            if self._port is not None and self._port.is_active():
                self._port.scan(None, 0, 0, False)
            return None
        port = self._active_port()
        duration_ms = _args.to_int(args[0], "duration_ms") if len(args) > 0 else 0
        interval_us = _args.to_int(args[1], "interval_us") if len(args) > 1 else 1280000
        window_us = _args.to_int(args[2], "window_us") if len(args) > 2 else 11250
        active = bool(args[3]) if len(args) > 3 else False
        interval = min(max(interval_us // 625, 4), 0x4000)
        window = min(max(window_us // 625, 4), 0x4000)
        if window > interval:
            raise oserror(EINVAL, "window_us must not exceed interval_us")
        port.scan(max(duration_ms, 0), interval * 625, window * 625, active)
        return None

    @_api
    def gap_connect(self, *args):
        _positional("gap_connect", args, 1, 5)
        if len(args) == 1:
            if args[0] is not None:
                raise TypeError("invalid addr")
            port = self._active_port()
            port.cancel_connect()
            return None
        port = self._active_port()
        addr_type = _args.u8(args[0], "addr_type")
        addr = _args.addr6(args[1])
        rest = list(args[2:]) + [None] * (3 - len(args[2:]))
        scan_ms = 2000 if rest[0] is None else _args.to_int(rest[0], "scan_duration_ms")
        min_us = None if rest[1] is None else _args.to_int(rest[1], "min_conn_interval_us")
        max_us = None if rest[2] is None else _args.to_int(rest[2], "max_conn_interval_us")
        port.connect(addr_type, addr, scan_ms, min_us, max_us)
        return None

    @_api
    def gap_disconnect(self, conn_handle):
        port = self._active_port()
        try:
            return port.disconnect(_args.u16(conn_handle, "conn_handle"))
        except PortError as e:
            if e.errno == ENOTCONN:
                return False
            raise

    @_api
    def gap_connection_update(self, conn_handle, min_interval_us, max_interval_us, latency=0,
                              supervision_timeout_ms=4000):
        """Extension: request new connection parameters (raises _IRQ_CONNECTION_UPDATE)."""
        port = self._active_port()
        lo = _args.to_int(min_interval_us, "min_interval_us")
        hi = _args.to_int(max_interval_us, "max_interval_us")
        if not 7500 <= lo <= hi <= 4000000:
            raise ValueError("connection interval must be 7500-4000000 us with min <= max")
        lat = _args.to_int(latency, "latency")
        if not 0 <= lat <= 499:
            raise ValueError("latency must be 0-499")
        tmo = _args.to_int(supervision_timeout_ms, "supervision_timeout_ms")
        if not 100 <= tmo <= 32000:
            raise ValueError("supervision_timeout_ms must be 100-32000")
        port.connection_update(_args.u16(conn_handle), lo, hi, lat, tmo)

    @_api
    def gap_connection_info(self, conn_handle):
        """Extension: current parameters and security state of a connection."""
        return self._active_port().connection_info(_args.u16(conn_handle))

    # ---- GATT server ------------------------------------------------------
    @_api
    def gatts_register_services(self, services):
        port = self._active_port()
        definitions = []
        for service in _iterate(services):
            if not isinstance(service, (tuple, list)):
                raise TypeError("service must be a tuple or list")
            if len(service) not in (2, 3):
                raise ValueError("service must be (UUID, characteristics)")
            s_uuid, characteristics = service[0], service[1]
            options = service[2] if len(service) == 3 else {}
            if not isinstance(options, dict):
                raise TypeError("service options must be a dict (extension: {'secondary': True})")
            if not isinstance(s_uuid, UUID):
                raise ValueError("invalid service UUID")
            chars = []
            for ch in _iterate(characteristics):
                if not isinstance(ch, (tuple, list)) or len(ch) not in (2, 3):
                    raise ValueError("invalid characteristic tuple")
                c_uuid, flags = ch[0], ch[1]
                if not isinstance(c_uuid, UUID):
                    raise ValueError("invalid characteristic UUID")
                descs = []
                if len(ch) == 3:
                    for d in _iterate(ch[2]):
                        if not isinstance(d, (tuple, list)) or len(d) != 2:
                            raise ValueError("invalid descriptor tuple")
                        if not isinstance(d[0], UUID):
                            raise ValueError("invalid descriptor UUID")
                        descs.append((bytes(d[0]), _args.to_int(d[1], "descriptor flags")))
                chars.append((bytes(c_uuid), _args.to_int(flags, "characteristic flags"), descs))
            definitions.append((bytes(s_uuid), chars, bool(options.get("secondary", False))))
        if len(definitions) > 8:
            raise oserror(E2BIG, "at most 8 services per call")
        handles = port.register_services(definitions)
        self._db.reset([h for service in handles for h in service])
        return handles

    def gatts_read(self, value_handle):
        handle = _args.u16(value_handle, "value_handle")
        if self._port is None or not self._port.is_active():
            return b""
        return self._db.read(handle)

    @_api
    def gatts_write(self, value_handle, data, send_update=False):
        port = self._active_port()
        handle = _args.u16(value_handle, "value_handle")
        raw = _args.to_bytes(data)
        if not self._db.write(handle, raw):
            raise oserror(EINVAL, "unknown value handle %d" % handle)
        if send_update:
            port.send_update(handle, raw)
        return len(raw)

    @_api
    def gatts_notify(self, conn_handle, value_handle, data=None):
        port = self._active_port()
        conn, handle = _args.u16(conn_handle, "conn_handle"), _args.u16(value_handle, "value_handle")
        port.notify(conn, handle, self._db.peek(handle) or b"" if data is None else _args.to_bytes(data))

    @_api
    def gatts_indicate(self, conn_handle, value_handle, data=None):
        port = self._active_port()
        conn, handle = _args.u16(conn_handle, "conn_handle"), _args.u16(value_handle, "value_handle")
        port.indicate(conn, handle, self._db.peek(handle) or b"" if data is None else _args.to_bytes(data))

    @_api
    def gatts_set_buffer(self, value_handle, length, append=False):
        self._active_port()
        handle = _args.u16(value_handle, "value_handle")
        size = _args.to_int(length, "len")
        if size < 0:
            raise ValueError("len must be >= 0")
        if not self._db.set_buffer(handle, size, append):
            raise oserror(EINVAL, "unknown value handle %d" % handle)

    @_api
    def gatts_set_length(self, value_handle, max_len, fixed=False):
        """Extension: refuse remote writes longer than max_len (or != max_len when fixed)."""
        self._active_port()
        handle = _args.u16(value_handle, "value_handle")
        size = _args.to_int(max_len, "max_len")
        if not 0 <= size <= 512:
            raise ValueError("max_len must be 0-512")
        if not self._db.set_length(handle, size, fixed):
            raise oserror(EINVAL, "unknown value handle %d" % handle)

    @_api
    def gatts_get_cccd(self, conn_handle, value_handle):
        """Extension: what that client wrote to the CCCD (0 none, 1 notify, 2 indicate)."""
        port = self._active_port()
        return port.get_cccd(_args.u16(conn_handle, "conn_handle"), _args.u16(value_handle, "value_handle"))

    # ---- GATT client ------------------------------------------------------
    @_api
    def gattc_discover_services(self, conn_handle, uuid=None):
        port = self._active_port()
        port.discover_services(_args.u16(conn_handle, "conn_handle"), _args.opt_uuid(uuid))

    @_api
    def gattc_discover_characteristics(self, conn_handle, start_handle, end_handle, uuid=None):
        port = self._active_port()
        port.discover_characteristics(_args.u16(conn_handle, "conn_handle"), _args.u16(start_handle, "start_handle"),
                                      _args.u16(end_handle, "end_handle"), _args.opt_uuid(uuid))

    @_api
    def gattc_discover_descriptors(self, conn_handle, start_handle, end_handle):
        port = self._active_port()
        port.discover_descriptors(_args.u16(conn_handle, "conn_handle"), _args.u16(start_handle, "start_handle"),
                                  _args.u16(end_handle, "end_handle"))

    @_api
    def gattc_read(self, conn_handle, value_handle):
        port = self._active_port()
        port.read(_args.u16(conn_handle, "conn_handle"), _args.u16(value_handle, "value_handle"))

    @_api
    def gattc_write(self, conn_handle, value_handle, data, mode=0):
        port = self._active_port()
        conn, handle = _args.u16(conn_handle, "conn_handle"), _args.u16(value_handle, "value_handle")
        raw = _args.to_bytes(data)
        mode = _args.to_int(mode, "mode")
        if mode not in (0, 1):
            raise oserror(EINVAL, "mode must be 0 or 1")
        port.write(conn, handle, raw, mode)

    @_api
    def gattc_exchange_mtu(self, conn_handle):
        port = self._active_port()
        port.exchange_mtu(_args.u16(conn_handle, "conn_handle"))


def _default_port_factory(options):
    """The one place that chooses the default port: Bumble over HCI, imported on first use."""
    from bleboard.port.stack import BumblePort

    return BumblePort(options)


def _shutdown_default_port():
    """At exit: close the default port's radios and its loop thread, if it was ever loaded."""
    loop = sys.modules.get("bleboard.port.loop")
    if loop is not None:
        loop.shutdown()


def _default_scheduler():
    """The process scheduler that also runs micropython.schedule callbacks."""
    from bleboard.runtime import scheduler

    return scheduler.default()


def _board_profile(options):
    """The stack profile of the board this radio plays (BLE.new(board=...) or BLEBOARD_BOARD)."""
    from bleboard.tools import board_profiles

    if options.get("board"):
        return board_profiles.settings(options["board"])
    return board_profiles.from_env()


def _features(ble):
    profile = ble._profile if ble is not None else _board_profile({})
    return None if profile is None else profile["features"]


def _has(ble, feature):
    features = _features(ble)
    return features is None or feature in features


class _Feature:
    """A method the board's firmware may be built without: then it is absent, as there,
    so feature checks (hasattr) and calls (AttributeError) behave as on that board."""

    def __init__(self, name, feature, function):
        self.name, self.feature, self.function = name, feature, function
        self.__doc__ = getattr(function, "__doc__", None)

    def __get__(self, obj, owner=None):
        if not _has(obj, self.feature):
            raise AttributeError("'BLE' object has no attribute '%s'" % self.name)
        return self.function if obj is None else self.function.__get__(obj, owner)


def _iterate(value):
    try:
        return list(value)
    except TypeError:
        raise TypeError("%s object is not iterable" % type(value).__name__) from None


# Positional-only methods: keywords are a TypeError, as in MicroPython (spec §2.1).
for _name in ("gap_disconnect", "gatts_register_services", "gatts_read", "gatts_write", "gatts_notify",
              "gatts_indicate", "gatts_set_buffer", "gattc_discover_services", "gattc_discover_characteristics",
              "gattc_discover_descriptors", "gattc_read", "gattc_write", "gattc_exchange_mtu", "irq"):
    setattr(BLE, _name, _positional_only()(getattr(BLE, _name)))
del _name


def _gate_features():
    from bleboard.tools.board_profiles import FEATURE_METHODS

    for feature, names in FEATURE_METHODS.items():
        for name in names:
            for klass in BLE.__mro__:
                if name in klass.__dict__:
                    setattr(BLE, name, _Feature(name, feature, klass.__dict__[name]))
                    break


_gate_features()
