"""Hostile peers: a raw Bumble central (on the same radio) that breaks the rules is refused."""

import asyncio

from bumble import smp
from bumble.device import Device, Peer
from bumble.hci import Address, OwnAddressType
from bumble.pairing import PairingConfig, PairingDelegate

from bleboard.port import loop as radio_loop
from bluetooth import UUID
from test_irq_delivery import wait_until
from test_security import IRQ_CENTRAL_CONNECT, FLAG_READ, FLAG_READ_ENCRYPTED, Board, updates


class BadKeySession(smp.Session):
    """Sends a public key that is not a point on P-256."""

    def send_public_key_command(self):
        self.send_command(smp.SMP_Pairing_Public_Key_Command(public_key_x=bytes([1] * 32), public_key_y=bytes([2] * 32)))


def run(coro, timeout=10):
    return radio_loop.get().run(coro, timeout)


def start_peripheral(radio, services=None, **config):
    p = Board(radio, **config)
    p.ble.active(True)
    handles = p.ble.gatts_register_services(services) if services else ()
    p.ble.gap_advertise(20000)
    return p, handles


async def raw_central(radio, mac, key_size=16, session=None, bonding=False):
    transport = radio.attach()
    device = Device.with_hci("hostile", Address.generate_static_address(), transport.source, transport.sink)
    await device.power_on()
    if session is not None:
        device.smp_session_proxy = session
    device.pairing_config_factory = lambda c: PairingConfig(
        sc=True, mitm=False, bonding=bonding,
        delegate=PairingDelegate(maximum_encryption_key_size=key_size))
    addr_type, addr = mac
    # From its public address: the identity it distributes when bonding, as a real board does.
    connection = await device.connect(Address(bytes(reversed(addr)), addr_type), own_address_type=OwnAddressType.PUBLIC)
    return device, connection, transport


async def try_pair(connection):
    try:
        await asyncio.wait_for(connection.pair(), 5)
        return "paired"
    except Exception as exc:  # the refusal is the point
        return type(exc).__name__


def test_short_encryption_key_is_refused(radio):
    p, _ = start_peripheral(radio)
    result = run(_pair_with(radio, p.ble.config("mac"), key_size=7))
    assert result != "paired"
    wait_until(lambda: updates(p))
    assert updates(p)[-1] == (0, 0, 0, 0)


def test_invalid_public_key_is_refused(radio):
    p, _ = start_peripheral(radio)
    result = run(_pair_with(radio, p.ble.config("mac"), session=BadKeySession))
    assert result != "paired"
    wait_until(lambda: updates(p))
    assert updates(p)[-1] == (0, 0, 0, 0)


async def _pair_with(radio, mac, **kw):
    device, connection, transport = await raw_central(radio, mac, **kw)
    try:
        return await try_pair(connection)
    finally:
        await transport.close()


def test_protected_read_without_encryption_after_reconnect(radio):
    services = [(UUID(0xE100), [(UUID(0xE101), FLAG_READ | FLAG_READ_ENCRYPTED)])]
    p, ((h,),) = start_peripheral(radio, services, bond=True)
    p.ble.gatts_write(h, b"protected")

    async def scenario():
        device, connection, transport = await raw_central(radio, p.ble.config("mac"), bonding=True)
        try:
            await Peer(connection).gatt_client.read_value(h)
            before = "read"
        except Exception as exc:
            before = getattr(exc, "error_code", exc)
        assert before == 0x05  # a stranger: insufficient authentication
        await asyncio.wait_for(connection.pair(), 5)
        value = await Peer(connection).gatt_client.read_value(h)
        await connection.disconnect()
        await asyncio.sleep(0.05)
        await p_advertise()
        connection = await device.connect(connection.peer_address, own_address_type=OwnAddressType.PUBLIC)
        try:
            await Peer(connection).gatt_client.read_value(h)
            again = "read"
        except Exception as exc:
            again = getattr(exc, "error_code", exc)
        await transport.close()
        return value, again

    async def p_advertise():
        await asyncio.get_running_loop().run_in_executor(None, p.ble.gap_advertise, 20000)

    value, again = run(scenario(), timeout=20)
    assert value == b"protected"
    assert again == 0x0F  # bonded peer, link not encrypted: insufficient encryption (NimBLE)
    wait_until(lambda: len(p.of(IRQ_CENTRAL_CONNECT)) == 2)
