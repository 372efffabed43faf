"""Connections on the virtual air: establishment, cancel, termination, ordered data, removal."""

import asyncio

import pytest
from bumble import core, hci
from bumble.device import AdvertisingType, ConnectionParametersPreferences
from radio_helpers import advertise_legacy, host, read_btsnoop, run, wait_event

from bleboard.radio import pdus
from bleboard.radio.local import LocalRadio
from bleboard.radio.transport import on_transport_lost

E = hci.HCI_ErrorCode
TEST_CID = 0x0070  # a dynamic-range CID used as a fixed channel by both test hosts


async def connected_pair(radio, adv_type=AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE, **connect):
    peripheral, central = await host(radio), await host(radio)
    await advertise_legacy(peripheral, adv_type, b"\x02\x01\x06", target=central.random_address)
    incoming = asyncio.ensure_future(wait_event(peripheral, "connection"))
    outgoing = await central.connect(peripheral.random_address, **connect)
    (peer_connection,) = await incoming
    return central, peripheral, outgoing, peer_connection


def disconnection(connection):
    future = asyncio.get_running_loop().create_future()
    connection.on("disconnection", lambda reason: future.done() or future.set_result(reason))
    return future


@pytest.mark.parametrize("extended", [False, True], ids=["legacy", "extended"])
@pytest.mark.parametrize("side", ["central", "peripheral"])
@run
async def test_connect_then_disconnect_from_either_side(extended, side):
    radio = LocalRadio("board", extended_advertising=extended)
    central, peripheral, c_conn, p_conn = await connected_pair(radio)
    assert c_conn.role == hci.Role.CENTRAL and p_conn.role == hci.Role.PERIPHERAL
    assert c_conn.peer_address == peripheral.random_address
    assert p_conn.peer_address == central.random_address
    c_done, p_done = disconnection(c_conn), disconnection(p_conn)
    local, remote = (c_conn, p_done) if side == "central" else (p_conn, c_done)
    await local.disconnect(E.REMOTE_USER_TERMINATED_CONNECTION_ERROR)
    assert await remote == E.REMOTE_USER_TERMINATED_CONNECTION_ERROR
    assert await (c_done if side == "central" else p_done) == E.CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR


@run
async def test_connection_complete_carries_the_requested_parameters():
    radio = LocalRadio("fast")
    peripheral, central = await host(radio), await host(radio)
    await advertise_legacy(peripheral, AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE)
    at_peripheral = asyncio.ensure_future(wait_event(peripheral.host, "le_connection"))
    at_central = asyncio.ensure_future(wait_event(central.host, "le_connection"))
    prefs = ConnectionParametersPreferences(
        connection_interval_min=30, connection_interval_max=50, max_latency=2, supervision_timeout=4000
    )
    await central.connect(peripheral.random_address, connection_parameters_preferences={hci.Phy.LE_1M: prefs})
    for event in (await at_central, await at_peripheral):
        interval, latency, timeout = event[-3:]
        assert (interval, latency, timeout) == (40, 2, 400)  # the controller picks the top of the range


@pytest.mark.parametrize(
    "adv_type", [AdvertisingType.UNDIRECTED_SCANNABLE, AdvertisingType.UNDIRECTED], ids=lambda t: t.name
)
@run
async def test_non_connectable_advertiser_cannot_be_connected_and_cancel_completes(adv_type):
    radio = LocalRadio("fast")
    peripheral, central = await host(radio), await host(radio)
    await advertise_legacy(peripheral, adv_type, b"\x02\x01\x06")
    failure = asyncio.ensure_future(wait_event(central.host, "connection_failure"))
    # Long enough for several advertising events (20 ms); then Bumble cancels.
    with pytest.raises(core.TimeoutError):
        await central.connect(peripheral.random_address, timeout=0.2)
    transport, address, status = await failure
    assert status == E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR
    assert address == peripheral.random_address
    assert not central.connections and not peripheral.connections


@run
async def test_cancel_of_a_pending_connection_to_nobody():
    radio = LocalRadio("board")
    central = await host(radio)
    failure = asyncio.ensure_future(wait_event(central.host, "connection_failure"))
    attempt = asyncio.ensure_future(central.connect(hci.Address("C1:23:45:67:89:AB")))
    await asyncio.sleep(0)  # let the create connection command go out
    while not central.is_le_connecting:
        await asyncio.sleep(0.001)
    await central.cancel_connection()
    assert (await failure)[2] == E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR
    with pytest.raises(core.ConnectionError):
        await attempt


@run
async def test_cancel_without_a_pending_connection_is_disallowed():
    radio = LocalRadio("fast")
    central = await host(radio)
    with pytest.raises(hci.HCI_Error) as error:
        await central.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())
    assert error.value.error_code == E.COMMAND_DISALLOWED_ERROR


@run
async def test_directed_advertising_connects_only_its_target():
    radio = LocalRadio("fast")
    peripheral, target, intruder = await host(radio), await host(radio), await host(radio)
    await advertise_legacy(peripheral, AdvertisingType.DIRECTED_CONNECTABLE_LOW_DUTY, target=target.random_address)
    with pytest.raises(core.TimeoutError):
        await intruder.connect(peripheral.random_address, timeout=0.2)
    connection = await target.connect(peripheral.random_address, timeout=5)
    assert connection.peer_address == peripheral.random_address


@run
async def test_connectable_advertising_stops_when_connected():
    radio = LocalRadio("fast")
    central, peripheral, _, _ = await connected_pair(radio)
    controller = peripheral.transport.controller
    assert not controller.is_advertising
    another = await host(radio)
    with pytest.raises(core.TimeoutError):
        await another.connect(peripheral.random_address, timeout=0.2)


class Collected(list):
    """PDUs received on TEST_CID; `await collected.reach(n)` waits for the n-th."""

    def __init__(self, device):
        super().__init__()
        self._grew = asyncio.Event()
        device.l2cap_channel_manager.register_fixed_channel(TEST_CID, self._on_pdu)

    def _on_pdu(self, handle, pdu):
        self.append(bytes(pdu))
        self._grew.set()

    async def reach(self, count):
        while len(self) < count:
            self._grew.clear()
            await self._grew.wait()


@pytest.mark.parametrize("latency", ["board", "fast", 2.0])
@run
async def test_acl_order_is_preserved_in_both_directions(latency):
    radio = LocalRadio(latency)
    central, peripheral, c_conn, p_conn = await connected_pair(radio)
    at_central, at_peripheral = Collected(central), Collected(peripheral)
    # Sizes cross the 251-byte HCI fragment boundary, so fragments interleave in the queues.
    sizes = [1, 30, 247, 248, 251, 500, 1000, 7]
    sent_c = [bytes([i & 0xFF]) * sizes[i % len(sizes)] + i.to_bytes(2, "little") for i in range(40)]
    sent_p = [bytes([(i * 7) & 0xFF]) * sizes[(i + 3) % len(sizes)] + i.to_bytes(2, "little") for i in range(40)]
    for a, b in zip(sent_c, sent_p):
        c_conn.send_l2cap_pdu(TEST_CID, a)
        p_conn.send_l2cap_pdu(TEST_CID, b)
    await at_peripheral.reach(len(sent_c))
    await at_central.reach(len(sent_p))
    assert at_peripheral == sent_c
    assert at_central == sent_p


@run
async def test_several_pdus_go_in_one_connection_event():
    radio = LocalRadio(50.0)  # ms per event: everything below is queued well within one
    central, peripheral, c_conn, _ = await connected_pair(radio)
    received = Collected(peripheral)
    air_connection = central.transport.controller.find_le_connection_by_handle(c_conn.handle)
    channel = air_connection.channel
    before = channel.events
    frames = [len(b"x%d" % i).to_bytes(2, "little") + TEST_CID.to_bytes(2, "little") + b"x%d" % i for i in range(6)]
    for frame in frames:  # queued synchronously: necessarily before the next event
        assert channel.send(air_connection, pdus.DataPdu(start=True, payload=frame))
    await received.reach(6)
    assert received == [frame[4:] for frame in frames]
    assert channel.events == before + 1


@run
async def test_data_queued_before_disconnect_is_delivered_first():
    radio = LocalRadio("board")
    central, peripheral, c_conn, p_conn = await connected_pair(radio)
    received, order = Collected(peripheral), []
    p_conn.on("disconnection", lambda reason: order.append(("disconnected", len(received))))
    done = disconnection(p_conn)
    for i in range(5):  # 10 HCI fragments, within the host's 16 buffer credits: sent at once
        c_conn.send_l2cap_pdu(TEST_CID, bytes([i]) * 300)
    await c_conn.disconnect()
    await done
    assert order == [("disconnected", 5)]


@run
async def test_removed_controller_times_out_its_peers_and_stops_advertising():
    radio = LocalRadio("board")
    central, peripheral, _, p_conn = await connected_pair(radio)
    bystander = await host(radio)
    await advertise_legacy(bystander, AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE)
    # The bystander's host goes away (process killed): its transport closes.
    bystander_controller = bystander.transport.controller
    peer_lost = disconnection(p_conn)
    await central.transport.close()  # the central's host went away
    assert await peer_lost == E.CONNECTION_TIMEOUT_ERROR
    await bystander.transport.close()
    assert not bystander_controller.is_advertising
    assert bystander_controller not in radio.controllers


@run
async def test_radio_close_tells_every_host_its_transport_is_lost():
    radio = LocalRadio("fast")
    a, b = await host(radio), await host(radio)
    lost = []
    on_transport_lost(a.transport, lambda: lost.append("a"))
    cancel = on_transport_lost(b.transport, lambda: lost.append("b"))
    cancel()
    radio.close()
    await a.transport.source.terminated
    await b.transport.source.terminated
    await asyncio.sleep(0)
    assert lost == ["a"]
    assert radio.controllers == []


@run
async def test_host_reset_drops_its_links_and_advertising():
    radio = LocalRadio("board")
    central, peripheral, _, p_conn = await connected_pair(radio)
    lost = disconnection(p_conn)
    await central.send_sync_command(hci.HCI_Reset_Command())  # e.g. BLE().active(False) then True
    assert await lost == E.CONNECTION_TIMEOUT_ERROR
    assert not central.transport.controller.le_connections


@run
async def test_high_duty_directed_advertising_times_out():
    radio = LocalRadio("fast", extended_advertising=False)
    peripheral, target = await host(radio), await host(radio)
    failure = asyncio.ensure_future(wait_event(peripheral.host, "connection_failure"))
    await advertise_legacy(peripheral, AdvertisingType.DIRECTED_CONNECTABLE_HIGH_DUTY, target=target.random_address)
    assert (await failure)[2] == E.ADVERTISING_TIMEOUT_ERROR  # after 1.28 s, as the spec says
    assert not peripheral.transport.controller.is_advertising


@run
async def test_read_rssi_and_data_length_on_a_connection():
    radio = LocalRadio("fast")
    central, _, c_conn, _ = await connected_pair(radio)
    assert await c_conn.get_rssi() == -50
    changed = asyncio.ensure_future(wait_event(central.host, "connection_data_length_change"))
    await c_conn.set_data_length(251, 2120)
    handle, *lengths = await changed
    assert handle == c_conn.handle and lengths[0] == 251
    with pytest.raises(hci.HCI_Error) as error:
        await central.send_sync_command(hci.HCI_Read_RSSI_Command(handle=0x0EEE))
    assert error.value.error_code == E.UNKNOWN_CONNECTION_IDENTIFIER_ERROR


@pytest.mark.parametrize("enhanced", [False, True], ids=["plain", "enhanced"])
def test_connection_complete_event_follows_the_le_event_mask(tmp_path, enhanced):
    """LE Enhanced Connection Complete when the host unmasked it, else the plain event (7.7.65.10)."""
    from bleboard.radio.snoop import wrap_transport

    path = str(tmp_path / "central.btsnoop")

    @run
    async def scenario():
        radio = LocalRadio("fast")
        peripheral = await host(radio)
        central = await host(transport=wrap_transport(radio.attach(), path))
        if not enhanced:  # what a Bluetooth 4.0 host sets: the first five LE events only
            await central.send_sync_command(hci.HCI_LE_Set_Event_Mask_Command(le_event_mask=bytes([0x1F]) + bytes(7)))
        await advertise_legacy(peripheral, AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE)
        connection = await central.connect(peripheral.random_address)
        assert connection.peer_address == peripheral.random_address
        await central.transport.close()

    scenario()
    _, _, records = read_btsnoop(path)
    subevents = {packet[3] for flags, packet in records if flags == 0x03 and packet[1] == 0x3E}
    expected, unexpected = (0x0A, 0x01) if enhanced else (0x01, 0x0A)
    assert expected in subevents and unexpected not in subevents


@run
async def test_pairing_encrypts_the_link():
    """SMP over ACL, then LL_ENC_REQ/LL_START_ENC through the data channel, both at connection events."""
    radio = LocalRadio("board")
    central, peripheral, c_conn, p_conn = await connected_pair(radio)
    await c_conn.pair()
    assert c_conn.is_encrypted and p_conn.is_encrypted


@run
async def test_named_board_gets_its_address_back():
    radio = LocalRadio("fast")
    first = await host(radio, name="sensor")
    address = first.public_address
    twin = await host(radio, name="sensor")  # the first is still on the air: another address
    assert twin.public_address != address
    await first.transport.close()
    await twin.transport.close()
    again = await host(radio, name="sensor")
    assert again.public_address == address
    assert (await host(radio)).public_address not in (address, twin.public_address)


@run
async def test_zephyr_write_bd_addr_sets_a_unique_public_address():
    from bleboard.radio.vendor import HCI_Zephyr_Write_BD_ADDR_Command

    radio = LocalRadio("fast")
    a, b = await host(radio), await host(radio)
    chosen = hci.Address("00:B1:EB:12:34:56", hci.Address.PUBLIC_DEVICE_ADDRESS)
    await a.send_sync_command(HCI_Zephyr_Write_BD_ADDR_Command(bd_addr=chosen))
    answer = await a.send_sync_command(hci.HCI_Read_BD_ADDR_Command())
    assert answer.bd_addr.address_bytes == chosen.address_bytes
    with pytest.raises(hci.HCI_Error) as error:  # taken by another board on this air
        await b.send_sync_command(HCI_Zephyr_Write_BD_ADDR_Command(bd_addr=chosen))
    assert error.value.error_code == E.INVALID_COMMAND_PARAMETERS_ERROR
