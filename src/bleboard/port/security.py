"""Pairing, bonding and the application-owned key store for the port (spec §3.14, §4.5).

Bumble's SMP does the protocol. What MicroPython adds is that the *application* owns the
keys (`_IRQ_GET_SECRET` / `_IRQ_SET_SECRET`) and the user interaction
(`_IRQ_PASSKEY_ACTION` answered by `gap_passkey`), so every such question is an irq that runs
on the main thread while the radio loop awaits its answer with a timeout. Hostile peers
are refused too (a key shorter than the configured minimum, a public key that is not on
the P-256 curve), by the SMP session in bumble_compat/session.py.
"""

import asyncio
import json
import logging

from bumble import hci
from bumble.keys import KeyStore, PairingKeys
from bumble.pairing import PairingConfig, PairingDelegate

from bluetooth._port import (
    EALREADY, EINVAL, PASSKEY_ACTION_DISPLAY as ACTION_DISPLAY, PASSKEY_ACTION_INPUT as ACTION_INPUT,
    PASSKEY_ACTION_NUMERIC_COMPARISON as ACTION_NUMERIC_COMPARISON, SEC_PEER, PortError,
)

from . import bumble_compat
from .bumble_compat.session import GuardedSession

log = logging.getLogger("bleboard.port")

ANSWER_TIMEOUT = 10.0  # the application answering a secret request
USER_TIMEOUT = 30.0  # a person answering a passkey action (SMP's own timeout)
PAIRING_TIMEOUT = 35.0
MIN_KEY_SIZE = 16  # as BTstack: refuse shorter keys (Bumble never checks)


def record_key(address):
    """NimBLE's 7-byte peer record key: address type, then the address little-endian."""
    return bytes((1 if address.address_type & 1 else 0,)) + bytes(address)


class SecretStore(KeyStore):
    """Bumble's key store, answered by the application's irq handler."""

    def __init__(self, security):
        self.security = security

    def _get_secret(self, sec_type, index, key):
        return self._ask(lambda sink, answer: sink.on_get_secret(sec_type, index, key, answer))

    def _set_secret(self, sec_type, key, value):
        return self._ask(lambda sink, answer: sink.on_set_secret(sec_type, key, value, answer))

    async def _ask(self, question):
        """question(sink, answer) raises the irq; the application's answer, or None in time."""
        port = self.security.port
        if not port.active:
            return None
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        def finish(result):
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(result))

        question(port.sink, finish)
        try:
            return await asyncio.wait_for(answer, ANSWER_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("the application did not answer a secret request in time")
            return None

    @staticmethod
    def _decode(blob):
        try:
            record = json.loads(blob.decode())
            return record["addr"], PairingKeys.from_dict(record["keys"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # like NimBLE, a record of the wrong shape is ignored

    async def get(self, name):
        blob = await self._get_secret(SEC_PEER, 0, record_key(hci.Address(name)))
        decoded = self._decode(blob) if blob is not None else None
        if decoded:
            self.security.bonded_peers.add(name)
        return decoded[1] if decoded else None

    async def update(self, name, keys):
        address = hci.Address(name)
        bonding = self.security.completed_bonding.pop(name, None)
        if bonding is None:
            link = self.security.link_for(address)
            bonding = link is None or link.session_bonding
        if not bonding:
            return  # paired without bonding: nothing is stored (spec §3.14)
        blob = json.dumps({"addr": name, "keys": keys.to_dict()}, sort_keys=True).encode()
        stored = await self._set_secret(SEC_PEER, record_key(address), blob)
        if stored:
            self.security.bonded_peers.add(name)
        else:
            log.warning("the application did not store the bond for %s", name)

    async def delete(self, name):
        self.security.bonded_peers.discard(name)
        await self._set_secret(SEC_PEER, record_key(hci.Address(name)), None)

    async def get_all(self):
        found = []
        for index in range(64):
            blob = await self._get_secret(SEC_PEER, index, None)
            if blob is None:
                break
            decoded = self._decode(blob)
            if decoded:
                found.append(decoded)
        return found

    async def delete_all(self):
        for name, _ in await self.get_all():
            await self.delete(name)


class Delegate(PairingDelegate):
    """User interaction as MicroPython does it: _IRQ_PASSKEY_ACTION, answered by gap_passkey."""

    def __init__(self, security, link, io):
        super().__init__(io_capability=PairingDelegate.IoCapability(io))
        self.security = security
        self.link = link

    async def _action(self, action, number):
        return await self.security.ask_user(self.link, action, number)

    async def compare_numbers(self, number, digits):
        return bool(await self._action(ACTION_NUMERIC_COMPARISON, number))

    async def get_number(self):
        answer = await self._action(ACTION_INPUT, 0)
        return None if answer is None else int(answer) % 1000000

    async def generate_passkey(self):
        answer = await self._action(ACTION_DISPLAY, 0)
        if answer is None:
            # Nobody chose a number: use one nobody saw, so the pairing fails, never hangs.
            return await super().generate_passkey()
        return int(answer) % 1000000

    async def display_number(self, number, digits):
        pass  # the application displayed the number it chose itself (ACTION_DISPLAY)


class Security:
    def __init__(self, port):
        self.port = port
        self.device = None
        self.pending_actions = {}  # (conn_handle, action) -> future of the application's answer
        self.bonded_peers = set()  # peers whose keys the application stored or returned
        self.completed_bonding = {}  # peer identity -> whether its finished pairing bonds

    def is_bonded(self, address):
        return str(address) in self.bonded_peers

    def attach(self, device):
        self.device = device
        device.bleboard_security = self
        device.min_key_size = MIN_KEY_SIZE
        bumble_compat.use_smp_session_class(device, GuardedSession)
        device.pairing_config_factory = self._pairing_config

    def started(self):
        """After power-on: the key store (asking it before would stall active(True))."""
        device = self.device
        device.keystore = SecretStore(self)
        bumble_compat.skip_resolving_list_refresh(device)
        bumble_compat.watch_missing_long_term_keys(device, self._on_missing_key)

    def _on_missing_key(self, conn_handle):
        link = self.port.links.get(conn_handle)
        if link is not None:
            self._report(link, failed=True)  # the peer has a bond we don't

    def link_for(self, address):
        for link in self.port.links.values():
            if link.connection.peer_address == address:
                return link
        return None

    def set_irk(self, irk):
        if self.device is not None and irk:
            self.device.irk = bytes(irk)

    def _pairing_config(self, connection):
        s = self.port.settings
        link = self.port.links.get(connection.handle)
        return PairingConfig(
            sc=bool(s.get("le_secure", True)), mitm=bool(s.get("mitm", False)),
            bonding=bool(s.get("bond", False)), delegate=Delegate(self, link, int(s.get("io", 3))),
        )

    # ---- connection events ------------------------------------------------
    def watch(self, link):
        """A new LE link, before the application can name it (stack.add_link): its security
        state exists before any gap_pair on it."""
        connection = link.connection
        link.pairing = False
        link.bonded = False
        link.session_bonding = False
        link.authenticated = False
        link.reported = None
        connection.on("pairing_start", lambda: self._on_pairing_start(link))
        connection.on("pairing", lambda keys: self._on_paired(link, keys))
        connection.on("pairing_failure", lambda reason: self._on_pairing_failed(link, reason))
        connection.on("connection_encryption_change", lambda: self._on_encryption(link))
        connection.on("connection_encryption_failure", lambda status: self._report(link, failed=True))
        connection.on("security_request", lambda auth_req: self._on_security_request(link))

    def _on_pairing_start(self, link):
        link.pairing = True
        link.reported = None

    def _end_session(self, link):
        """Forget a finished SMP session so a later pairing on this link starts afresh."""
        bumble_compat.forget_smp_session(
            self.device, link.handle, lambda session: session.completed or not link.pairing)

    def _on_paired(self, link, keys):
        link.pairing = False
        self._end_session(link)
        link.bonded = link.session_bonding
        ltk = keys.ltk or keys.ltk_central or keys.ltk_peripheral
        link.authenticated = bool(ltk.authenticated) if ltk is not None else False
        # Bumble marks every paired link authenticated; MicroPython only MITM-protected ones,
        # and the attribute permission checks (gatts.py) must agree.
        bumble_compat.set_authenticated(link.connection, link.authenticated)
        self._report(link)

    def on_keys_exchanged(self, link, authenticated):
        """The pairing's last key has been exchanged (GuardedSession): report it now."""
        link.pairing = False
        link.bonded = link.session_bonding
        link.authenticated = authenticated
        bumble_compat.set_authenticated(link.connection, authenticated)
        self._report(link)

    def _on_pairing_failed(self, link, reason):
        log.debug("pairing failed: %r", reason)
        link.pairing = False
        self._end_session(link)
        self._report(link, failed=True)

    def _on_encryption(self, link):
        if link.pairing:
            return  # reported when the pairing (key distribution) completes
        link.bonded = True  # encrypted without pairing: with keys from the store
        self._report(link)

    def _on_security_request(self, link):
        if link.is_central and not link.pairing:
            asyncio.ensure_future(self._pair(link))

    def _report(self, link, failed=False):
        """_IRQ_ENCRYPTION_UPDATE with ints 0/1, only when the state really changed."""
        c = link.connection
        if link.closed:
            return
        encrypted = 0 if failed else int(bool(c.is_encrypted))
        state = (encrypted, int(encrypted and getattr(link, "authenticated", False)),
                 int(encrypted and link.bonded), (c.encryption_key_size or 16) if encrypted else 0)
        if state == link.reported:
            return
        link.reported = state
        self.port.sink.on_encryption_update(link.handle, *state)

    # ---- API --------------------------------------------------------------
    def pair(self, conn_handle):
        link = self.port.link(conn_handle)
        if link.pairing:
            raise PortError(EALREADY, "pairing already in progress")
        link.pairing = True
        self.port.rl.spawn(self._pair(link))

    async def _pair(self, link):
        link.pairing = True
        link.reported = None
        connection = link.connection
        try:
            keys = None
            if link.is_central and self.device.keystore is not None:
                keys = await self.device.keystore.get(str(connection.peer_address))
            if keys is not None and (keys.ltk or keys.ltk_central):
                link.pairing = False
                ltk = keys.ltk or keys.ltk_central
                link.authenticated = bool(ltk.authenticated)
                await asyncio.wait_for(self.device.encrypt(connection), PAIRING_TIMEOUT)
            elif bumble_compat.smp_timed_out(connection):
                link.pairing = False  # a pairing that timed out is retried on a new link only
                self._report(link, failed=True)
            elif link.is_central:
                await asyncio.wait_for(self.device.pair(connection), PAIRING_TIMEOUT)
            else:
                self.device.request_pairing(connection)
                link.pairing = False  # the central decides; its pairing starts a session here
        except asyncio.TimeoutError:
            link.pairing = False
            self._report(link, failed=True)
        except Exception as exc:  # refused, rejected, key missing: all end the attempt
            log.debug("pairing/encryption failed: %r", exc)
            if link.pairing or not connection.is_encrypted:
                link.pairing = False
                self._report(link, failed=True)

    async def ask_user(self, link, action, number):
        if link is None or link.closed:
            return None
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self.pending_actions[(link.handle, action)] = answer
        self.port.sink.on_passkey_action(link.handle, action, number)
        try:
            return await asyncio.wait_for(answer, USER_TIMEOUT)
        except asyncio.TimeoutError:
            return None
        finally:
            self.pending_actions.pop((link.handle, action), None)

    def passkey(self, conn_handle, action, value):
        link = self.port.link(conn_handle)
        if action not in (ACTION_INPUT, ACTION_DISPLAY, ACTION_NUMERIC_COMPARISON):
            raise PortError(EINVAL, "action must be 2 (input), 3 (display) or 4 (numeric comparison)")
        future = self.pending_actions.get((link.handle, action))
        if future is None:
            raise PortError(EINVAL, "no passkey action %d pending on this connection" % action)
        self.port.rl.call_soon(lambda: future.done() or future.set_result(value))

    # ---- hooks ------------------------------------------------------------
    def on_link_closed(self, link, notify):
        for (handle, _action), future in list(self.pending_actions.items()):
            if handle == link.handle and not future.done():
                future.get_loop().call_soon_threadsafe(lambda f=future: f.done() or f.set_result(None))

    def reset(self):
        self.pending_actions.clear()
        self.completed_bonding.clear()
