"""The timing model on a live link: real Bumble hosts over two virtual controllers in board mode.

Everything here is checked in simulated terms (event counters, the event times
the link computes, PDUs per event), never against the wall clock.
"""

import asyncio

import pytest
from bumble import hci
from bumble.device import AdvertisingType, ConnectionParametersPreferences
from radio_helpers import advertise_legacy, host, run, wait_event

from bleboard.radio import timing
from bleboard.radio.connection_procedures import ConnectionUpdateAt
from bleboard.radio.local import LocalRadio

E = hci.HCI_ErrorCode
TEST_CID = 0x0070


async def board_pair(interval_ms=30.0, latency=0, timeout_ms=2560):
    """Central and peripheral connected at exactly `interval_ms` (min = max), with their air-side ends."""
    radio = LocalRadio("board")
    peripheral, central = await host(radio), await host(radio)
    await advertise_legacy(peripheral, AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE)
    incoming = asyncio.ensure_future(wait_event(peripheral, "connection"))
    prefs = ConnectionParametersPreferences(
        connection_interval_min=interval_ms, connection_interval_max=interval_ms,
        max_latency=latency, supervision_timeout=timeout_ms,
    )
    c_conn = await central.connect(peripheral.random_address, connection_parameters_preferences={hci.Phy.LE_1M: prefs})
    (p_conn,) = await incoming
    c_air = central.transport.controller.find_le_connection_by_handle(c_conn.handle)
    p_air = peripheral.transport.controller.find_le_connection_by_handle(p_conn.handle)
    return central, peripheral, c_conn, p_conn, c_air, p_air


class Received(list):
    """Payloads arriving on TEST_CID at one host."""

    def __init__(self, device):
        super().__init__()
        self._grew = asyncio.Event()
        device.l2cap_channel_manager.register_fixed_channel(TEST_CID, self._on_pdu)

    def _on_pdu(self, _handle, pdu):
        self.append(bytes(pdu))
        self._grew.set()

    async def reach(self, count):
        while len(self) < count:
            self._grew.clear()
            await self._grew.wait()


async def ping_pong(c_conn, p_conn, at_central, at_peripheral, rounds):
    """Each side answers the other: one round trip per two connection events at best."""
    for i in range(rounds):
        c_conn.send_l2cap_pdu(TEST_CID, b"ping%d" % i)
        await at_peripheral.reach(len(at_peripheral) + 1)
        p_conn.send_l2cap_pdu(TEST_CID, b"pong%d" % i)
        await at_central.reach(len(at_central) + 1)


def assert_spacing(records, interval_units):
    """Events that moved data sit on the connection's grid: their computed times differ by whole intervals."""
    period = interval_units * timing.INTERVAL_UNIT_US / 1e6
    for before, after in zip(records, records[1:]):
        assert after.counter > before.counter
        assert after.time - before.time == pytest.approx((after.counter - before.counter) * period, abs=1e-9)


@pytest.mark.parametrize("interval_ms", [7.5, 30.0, 50.0])
@run
async def test_events_come_at_the_interval_the_host_asked_for(interval_ms):
    central, peripheral, c_conn, p_conn, c_air, p_air = await board_pair(interval_ms)
    units = round(interval_ms / 1.25)
    assert (c_conn.parameters.connection_interval, p_conn.parameters.connection_interval) == (interval_ms, interval_ms)
    channel = c_air.channel
    assert channel.parameters.interval == units
    channel.history.clear()
    await ping_pong(c_conn, p_conn, Received(central), Received(peripheral), 4)
    records = list(channel.history)
    assert len(records) >= 8
    assert {r.interval for r in records} == {units}
    assert_spacing(records, units)
    # A host's answer never leaves in the event that brought the question.
    assert all(after.counter > before.counter for before, after in zip(records, records[1:]))


@run
async def test_connection_update_applies_at_its_instant_and_both_hosts_hear_of_it():
    central, peripheral, c_conn, p_conn, c_air, p_air = await board_pair(30.0)
    channel = c_air.channel
    seen = []
    original = peripheral.transport.controller.on_air_pdu

    def spy(connection, pdu):  # the real controller still handles every PDU
        if isinstance(pdu, ConnectionUpdateAt):
            seen.append((pdu, channel.parameters.interval))
        original(connection, pdu)

    peripheral.transport.controller.on_air_pdu = spy
    at_central = asyncio.ensure_future(wait_event(central.host, "connection_parameters_update"))
    at_peripheral = asyncio.ensure_future(wait_event(peripheral.host, "connection_parameters_update"))
    channel.history.clear()
    # Range 10-20 ms: the controller picks the top (16 units); timeout 1 s; latency 0.
    await c_conn.update_parameters(10.0, 20.0, 0, 1000.0)
    (_, c_interval, c_latency, c_timeout) = await at_central
    (_, p_interval, p_latency, p_timeout) = await at_peripheral
    assert (c_interval, c_latency, c_timeout) == (p_interval, p_latency, p_timeout) == (16, 0, 100)
    (pdu, interval_when_received), = seen
    assert interval_when_received == 24  # the peripheral got the request while the old interval was in force
    assert (pdu.interval, pdu.latency, pdu.timeout) == (16, 0, 100)
    assert channel.parameters.interval == 16
    # Traffic after the instant runs on the new grid; the switch happened exactly at the instant.
    central_rx, peripheral_rx = Received(central), Received(peripheral)
    await ping_pong(c_conn, p_conn, central_rx, peripheral_rx, 3)
    records = list(channel.history)
    old = [r for r in records if r.interval == 24]
    new = [r for r in records if r.interval == 16]
    assert old and new and old[-1].counter < pdu.instant <= new[0].counter
    assert all(r.counter < pdu.instant for r in old)
    assert_spacing(new, 16)
    assert c_conn.parameters.connection_interval == p_conn.parameters.connection_interval == 20.0


@run
async def test_peripheral_asks_and_the_central_controller_updates():
    central, peripheral, c_conn, p_conn, c_air, p_air = await board_pair(30.0)
    at_central = asyncio.ensure_future(wait_event(central.host, "connection_parameters_update"))
    at_peripheral = asyncio.ensure_future(wait_event(peripheral.host, "connection_parameters_update"))
    await p_conn.update_parameters(45.0, 45.0, 0, 2000.0)  # HCI LE Connection Update on the peripheral
    assert (await at_central)[1:] == (await at_peripheral)[1:] == (36, 0, 200)
    assert c_air.channel.parameters.interval == 36


@run
async def test_bad_connection_update_parameters_are_refused():
    central, _, c_conn, _, _, _ = await board_pair(30.0)
    with pytest.raises(hci.HCI_Error) as error:
        # supervision timeout (100 ms) shorter than two intervals of 75 ms
        await central.send_async_command(hci.HCI_LE_Connection_Update_Command(
            connection_handle=c_conn.handle, connection_interval_min=60, connection_interval_max=60,
            max_latency=0, supervision_timeout=10, min_ce_length=0, max_ce_length=0,
        ))
    assert error.value.error_code == E.INVALID_COMMAND_PARAMETERS_ERROR


@run
async def test_supervision_timeout_ends_a_link_whose_peer_vanished():
    # 7.5 ms interval, 100 ms supervision timeout (the shortest the spec allows is 10 units).
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(7.5, timeout_ms=100)
    reason = asyncio.get_running_loop().create_future()
    c_conn.on("disconnection", lambda r: reason.done() or reason.set_result(r))
    peripheral.transport.detach(lost=True)  # the peripheral board is gone without a word
    for _ in range(20):  # the central's link lives on until the timeout, whatever the loop does meanwhile
        await asyncio.sleep(0)
    assert not reason.done()
    assert c_air.channel._supervision is not None
    c_conn.send_l2cap_pdu(TEST_CID, b"into the void")  # goes nowhere, and ends nothing early
    assert await reason == E.CONNECTION_TIMEOUT_ERROR


@run
async def test_data_length_update_both_ways_and_pdus_per_event():
    central, peripheral, c_conn, p_conn, c_air, p_air = await board_pair(7.5)
    channel = c_air.channel
    assert channel.max_tx_octets == [27, 27]
    changed_c = asyncio.ensure_future(wait_event(c_conn, "connection_data_length_change"))
    changed_p = asyncio.ensure_future(wait_event(p_conn, "connection_data_length_change"))
    at_peripheral = Received(peripheral)
    # Before: 1M, 27 octets, 7.5 ms -> at most 11 PDUs per event.
    channel.history.clear()
    for i in range(40):  # L2CAP PDUs of 4 + 23 octets: one full 27-octet LL PDU each
        c_conn.send_l2cap_pdu(TEST_CID, bytes([i]) * 23)
    await at_peripheral.reach(40)
    assert max(r.central_sent for r in channel.history) == 11
    # Host fragments longer than the data length are split: a 300-octet L2CAP PDU leaves the
    # host as HCI fragments of 251 + 49 octets, and goes on the air as 10 + 2 LL PDUs.
    channel.history.clear()
    c_conn.send_l2cap_pdu(TEST_CID, b"y" * 296)
    await at_peripheral.reach(41)
    assert sum(r.central_sent for r in channel.history) == 12 and at_peripheral[40] == b"y" * 296
    await c_conn.set_data_length(251, 2120)
    await changed_c
    await changed_p
    assert c_conn.data_length.max_tx_octets == p_conn.data_length.max_rx_octets == 251
    assert channel.max_tx_octets[0] == 251
    # The peripheral's host suggested 251 too (Bumble writes that default), so its direction grew as well.
    assert channel.max_tx_octets[1] == 251
    channel.history.clear()
    for i in range(20):  # 4 + 247 octets: one full 251-octet LL PDU each
        c_conn.send_l2cap_pdu(TEST_CID, bytes([i]) * 247)
    await at_peripheral.reach(61)
    assert at_peripheral[41:] == [bytes([i]) * 247 for i in range(20)]
    # 251 octets on 1M: 3 per 7.5 ms event.
    assert max(r.central_sent for r in channel.history) == 3
    # The same 300 octets now take one LL PDU per HCI fragment.
    channel.history.clear()
    c_conn.send_l2cap_pdu(TEST_CID, b"x" * 296)
    await at_peripheral.reach(62)
    assert sum(r.central_sent for r in channel.history) == 2 and at_peripheral[61] == b"x" * 296


@run
async def test_phy_update_to_2m_applies_to_both_directions():
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(30.0)
    at_central = asyncio.ensure_future(wait_event(central.host, "connection_phy_update"))
    at_peripheral = asyncio.ensure_future(wait_event(peripheral.host, "connection_phy_update"))
    await c_conn.set_phy(tx_phys=[hci.Phy.LE_2M], rx_phys=[hci.Phy.LE_2M])
    for _handle, phy in (await at_central, await at_peripheral):
        assert (phy.tx_phy, phy.rx_phy) == (hci.Phy.LE_2M, hci.Phy.LE_2M)
    assert c_air.channel.phy == [timing.LE_2M, timing.LE_2M]
    read = await c_conn.get_phy()
    assert (read.tx_phy, read.rx_phy) == (hci.Phy.LE_2M, hci.Phy.LE_2M)


@run
async def test_peripheral_latency_skips_events_only_when_it_has_nothing_to_send():
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(7.5, latency=3, timeout_ms=1000)
    channel = c_air.channel
    at_peripheral, at_central = Received(peripheral), Received(central)
    c_conn.send_l2cap_pdu(TEST_CID, b"wake up")
    await at_peripheral.reach(1)
    for i in range(6):
        awake = channel._active_counter + 1  # it listens here, then every 4th event (latency 3)
        await asyncio.sleep(0.05)  # several events pass idle, so the next PDU meets a sleeping peripheral
        channel.history.clear()
        c_conn.send_l2cap_pdu(TEST_CID, b"one-way %d" % i)
        await at_peripheral.reach(i + 2)
        (record,) = channel.history
        assert record.counter >= awake and (record.counter - awake) % 4 == 0
    # The peripheral's own data goes at the very next event, skipping nothing.
    await asyncio.sleep(0.05)
    channel.history.clear()
    first_possible = channel.next_counter()
    p_conn.send_l2cap_pdu(TEST_CID, b"from the peripheral")
    await at_central.reach(1)
    (record,) = channel.history
    assert record.peripheral_sent == 1 and record.counter - first_possible <= 1


@run
async def test_coded_phy_and_its_time_limits_on_the_data_length():
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(30.0)
    channel = c_air.channel
    at_central = asyncio.ensure_future(wait_event(central.host, "connection_phy_update"))
    # Coded only, S=2 preferred (PHY options 1).
    await c_conn.set_phy(tx_phys=[hci.Phy.LE_CODED], rx_phys=[hci.Phy.LE_CODED], phy_options=1)
    _, phy = await at_central
    assert (phy.tx_phy, phy.rx_phy) == (hci.Phy.LE_CODED, hci.Phy.LE_CODED)
    assert channel.phy == [timing.LE_CODED, timing.LE_CODED] and channel.coding == timing.CODED_S2
    # 251 octets asked with 2120 us: on Coded the time is never below 2704 us, which at S=2
    # holds 136 octets and a MIC (462 + 16 x (136 + 4) = 2702 us).
    changed = asyncio.ensure_future(wait_event(c_conn, "connection_data_length_change"))
    await c_conn.set_data_length(251, 2120)
    await changed
    assert timing.max_payload_in_time(2704, timing.LE_CODED, True, timing.CODED_S2) == 136
    assert channel.max_tx_octets[0] == 136
    # A PHY the peer does not accept leaves that direction as it was.
    await c_conn.set_phy(tx_phys=[hci.Phy.LE_2M], rx_phys=[hci.Phy.LE_2M])
    await wait_event(central.host, "connection_phy_update")
    assert channel.phy == [timing.LE_2M, timing.LE_2M]
    assert channel.max_tx_octets[0] == 251  # 2120 us holds 251 octets on 2M


@run
async def test_colliding_updates_end_for_both_hosts():
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(30.0)
    # The peripheral asks first, the central starts its own update before that request
    # reaches it: the central's wins, the peripheral's ends with an error, nobody hangs.
    asked = asyncio.ensure_future(p_conn.update_parameters(45.0, 45.0, 0, 2000.0))
    await asyncio.sleep(0)
    own = asyncio.ensure_future(c_conn.update_parameters(20.0, 20.0, 0, 1000.0))
    await own
    with pytest.raises(hci.HCI_Error) as error:
        await asked
    assert error.value.error_code in (
        E.LMP_ERROR_TRANSACTION_COLLISION_OR_LL_PROCEDURE_COLLISION_ERROR,  # rejected by the central
        E.COMMAND_DISALLOWED_ERROR,  # or refused at once: the central's update was already under way
    )
    assert c_air.channel.parameters.interval == 16
    assert c_conn.parameters.connection_interval == p_conn.parameters.connection_interval == 20.0


@run
async def test_encrypted_pdus_carry_a_mic_and_fewer_fit_in_an_event():
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(7.5)
    channel = c_air.channel
    await c_conn.pair()
    assert c_conn.is_encrypted and channel.encrypted
    at_peripheral = Received(peripheral)
    channel.history.clear()
    for i in range(40):  # one full 27-octet LL PDU each
        c_conn.send_l2cap_pdu(TEST_CID, bytes([i]) * 23)
    await at_peripheral.reach(40)
    # 27 octets + MIC on 1M is 328 us: 7500 / (328 + 150 + 80 + 150) = 10.6, so 10 (11 without MIC).
    assert max(r.central_sent for r in channel.history) == 10


@run
async def test_colliding_phy_requests_the_central_wins():
    central, peripheral, c_conn, p_conn, c_air, _ = await board_pair(30.0)
    failures = []
    peripheral.host.on("connection_phy_update_failure", lambda handle, status: failures.append(status))
    at_peripheral = asyncio.ensure_future(wait_event(peripheral.host, "connection_phy_update"))
    at_central = asyncio.ensure_future(wait_event(central.host, "connection_phy_update"))
    # Both hosts ask in the same loop turn: each controller sends LL_PHY_REQ before hearing the
    # other's. The central's procedure goes on (and meets the peripheral's preferences: 2M), the
    # peripheral's own request is refused with a collision.
    await asyncio.gather(
        p_conn.set_phy(tx_phys=[hci.Phy.LE_2M, hci.Phy.LE_CODED], rx_phys=[hci.Phy.LE_2M, hci.Phy.LE_CODED]),
        c_conn.set_phy(tx_phys=[hci.Phy.LE_2M], rx_phys=[hci.Phy.LE_2M]),
    )
    _, phy = await at_central
    assert (phy.tx_phy, phy.rx_phy) == (hci.Phy.LE_2M, hci.Phy.LE_2M)
    assert c_air.channel.phy == [timing.LE_2M, timing.LE_2M]
    _, phy = await at_peripheral
    assert (phy.tx_phy, phy.rx_phy) == (hci.Phy.LE_2M, hci.Phy.LE_2M)
    assert failures == [E.LMP_ERROR_TRANSACTION_COLLISION_OR_LL_PROCEDURE_COLLISION_ERROR]
