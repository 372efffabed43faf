"""Bumble's SMP session as the port runs it: the checks a hostile peer needs and NimBLE's
event order, as overrides of Bumble 0.0.236's session handlers (which is why it lives here).

Bumble accepts a key shorter than the board's minimum and a public key off the P-256 curve;
both are refused. The rest of the port is reached through `device.bleboard_security`
(port/security.py): when the keys are exchanged, and whether the pairing bonds.
"""

import logging

from bumble import smp

from . import DurableBondSession, TimedSession

log = logging.getLogger("bleboard.port")


# NIST P-256: y^2 = x^3 - 3x + b (mod p)
_P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def on_p256(x_le, y_le):
    x, y = int.from_bytes(x_le, "little"), int.from_bytes(y_le, "little")
    if not (0 <= x < _P256_P and 0 <= y < _P256_P):
        return False
    return (y * y - (x * x * x - 3 * x + _P256_B)) % _P256_P == 0


class GuardedSession(TimedSession, DurableBondSession):
    """Bumble's SMP session with the checks a hostile peer needs, and MicroPython's result."""

    def _key_size_ok(self, command):
        if command.maximum_encryption_key_size < self.manager.device.min_key_size:
            log.warning("peer offered a %d-byte key; refusing", command.maximum_encryption_key_size)
            self.send_pairing_failed(smp.ErrorCode.ENCRYPTION_KEY_SIZE)
            return False
        return True

    def _note_bonding(self):
        link = self.manager.device.bleboard_security.port.links.get(self.connection.handle)
        if link is not None:
            link.session_bonding = bool(self.bonding)

    async def on_smp_pairing_request_command_async(self, command):
        if self._key_size_ok(command):
            await super().on_smp_pairing_request_command_async(command)
            self._note_bonding()

    def on_smp_pairing_response_command(self, command):
        if self._key_size_ok(command):
            super().on_smp_pairing_response_command(command)
            self._note_bonding()

    def on_peer_key_distribution_complete(self):
        """Keys exchanged: the pairing is done. NimBLE raises _IRQ_ENCRYPTION_UPDATE here,
        before the bond is stored and before any later PDU on the link is handled; Bumble
        only says so after the key store has answered (an irq round trip), by which time a
        read the peer sent right after its own pairing has been handed to the application."""
        security = self.manager.device.bleboard_security
        # Whether to store the bond, by the identity the key store will be given: decided
        # now, while the session knows, even if the link is gone by the time keys are stored.
        peer = self.peer_bd_addr if self.peer_bd_addr is not None else self.connection.peer_address
        security.completed_bonding[str(peer)] = bool(self.bonding)
        super().on_peer_key_distribution_complete()
        link = security.port.links.get(self.connection.handle)
        if link is not None and self.connection.is_encrypted:
            security.on_keys_exchanged(link, self.pairing_method != smp.PairingMethod.JUST_WORKS)

    def on_smp_pairing_public_key_command(self, command):
        if not on_p256(command.public_key_x, command.public_key_y):
            log.warning("peer sent a public key that is not on P-256; refusing")
            self.send_pairing_failed(smp.ErrorCode.DHKEY_CHECK_FAILED)
            return
        super().on_smp_pairing_public_key_command(command)
