"""Advertising and scanning on the virtual air, seen by real Bumble hosts over HCI.

Every test runs twice: with controllers that only know the legacy commands
(HCI_LE_Advertising_Report events, types 0..4) and with extended-advertising
controllers (HCI_LE_Extended_Advertising_Report bit fields).
"""

import pytest
from bumble import hci
from bumble.device import AdvertisingEventProperties, AdvertisingParameters, AdvertisingType
from radio_helpers import Reports, advertise_legacy, from_address, host, run

from bleboard.radio.local import LocalRadio

EXT = hci.HCI_LE_Extended_Advertising_Report_Event
Operation = hci.HCI_LE_Set_Extended_Advertising_Data_Command.Operation
AD = b"\x02\x01\x06\x05\x09adv!"
SR = b"\x05\x09rsp!"

# Expected report event types, legacy report / extended report.
LEGACY_TYPES = {
    AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE: (0, 0x13),
    AdvertisingType.DIRECTED_CONNECTABLE_LOW_DUTY: (1, 0x15),
    AdvertisingType.UNDIRECTED_SCANNABLE: (2, 0x12),
    AdvertisingType.UNDIRECTED: (3, 0x10),
}
SCAN_RSP_TYPES = {
    AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE: (4, 0x1B),
    AdvertisingType.UNDIRECTED_SCANNABLE: (4, 0x1A),
}


def is_scan_response(report):
    if isinstance(report, EXT.Report):
        return bool(report.event_type & EXT.EventType.SCAN_RESPONSE)
    return report.event_type == 4


@pytest.mark.parametrize("extended", [False, True], ids=["legacy", "extended"])
@pytest.mark.parametrize("adv_type", list(LEGACY_TYPES), ids=lambda t: t.name)
@run
async def test_each_advertising_type_active_scan(extended, adv_type):
    radio = LocalRadio("fast", extended_advertising=extended)
    advertiser, scanner = await host(radio), await host(radio)
    reports = Reports(scanner)
    target = scanner.random_address if adv_type.is_directed else None
    await advertise_legacy(advertiser, adv_type, AD, SR, target=target)
    await scanner.start_scanning(active=True)
    mine = from_address(advertiser.random_address)
    await reports.wait_for(lambda r: mine(r) and not is_scan_response(r), count=3)
    if adv_type.is_scannable:
        await reports.wait_for(lambda r: mine(r) and is_scan_response(r), count=3)
    await scanner.stop_scanning()

    index = 1 if extended else 0
    for report in reports.items:
        assert mine(report)
        assert isinstance(report, EXT.Report) == extended
        if is_scan_response(report):
            assert adv_type.is_scannable
            assert report.event_type == SCAN_RSP_TYPES[adv_type][index]
            assert report.data == SR
        else:
            assert report.event_type == LEGACY_TYPES[adv_type][index]
            assert report.data == (b"" if adv_type.is_directed else AD)
        assert report.rssi == -50
    if extended and adv_type.is_directed:
        assert reports.items[0].direct_address == scanner.random_address
    # A scan response never comes alone: it follows the advertisement it answers.
    for previous, report in zip(reports.items, reports.items[1:]):
        if is_scan_response(report):
            assert not is_scan_response(previous)


@pytest.mark.parametrize("extended", [False, True], ids=["legacy", "extended"])
@run
async def test_passive_scanner_gets_no_scan_response(extended):
    radio = LocalRadio("fast", extended_advertising=extended)
    advertiser, passive, active = await host(radio), await host(radio), await host(radio)
    passive_reports, active_reports = Reports(passive), Reports(active)
    await advertise_legacy(advertiser, AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE, AD, SR)
    await passive.start_scanning(active=False)
    await active.start_scanning(active=True)
    mine = from_address(advertiser.random_address)
    # By the time the active scanner has had 5 scan responses, the passive one
    # has heard the same advertising events, none of them answered.
    await active_reports.wait_for(lambda r: mine(r) and is_scan_response(r), count=5)
    await passive_reports.wait_for(mine, count=3)
    assert not any(is_scan_response(r) for r in passive_reports.items)
    assert all(r.data == AD for r in passive_reports.items)


@run
async def test_directed_advertising_is_invisible_to_others():
    radio = LocalRadio("fast")
    advertiser, target, other = await host(radio), await host(radio), await host(radio)
    target_reports, other_reports = Reports(target), Reports(other)
    await other.start_scanning(active=True)
    await target.start_scanning(active=True)
    await advertise_legacy(
        advertiser, AdvertisingType.DIRECTED_CONNECTABLE_LOW_DUTY, target=target.random_address
    )
    # A marker advertiser the other scanner does hear, to know it has been listening.
    marker = await host(radio)
    await advertise_legacy(marker, AdvertisingType.UNDIRECTED, b"\x02\x01\x06")
    await target_reports.wait_for(from_address(advertiser.random_address), count=3)
    await other_reports.wait_for(from_address(marker.random_address), count=3)
    assert not [r for r in other_reports.items if from_address(advertiser.random_address)(r)]


@run
async def test_legacy_scan_does_not_hear_extended_pdus():
    radio = LocalRadio("fast")
    advertiser, legacy_scanner, ext_scanner = await host(radio), await host(radio), await host(radio)
    legacy_reports, ext_reports = Reports(legacy_scanner), Reports(ext_scanner)
    await advertiser.create_advertising_set(
        advertising_parameters=AdvertisingParameters(
            advertising_event_properties=AdvertisingEventProperties(
                is_connectable=True, is_scannable=False, is_legacy=False
            ),
            primary_advertising_interval_min=20,
            primary_advertising_interval_max=20,
        ),
        advertising_data=bytes(60),
    )
    await legacy_scanner.start_scanning(legacy=True, active=True)
    await ext_scanner.start_scanning(active=True)
    marker = await host(radio)
    await advertise_legacy(marker, AdvertisingType.UNDIRECTED, b"\x02\x01\x06")
    heard = await ext_reports.wait_for(from_address(advertiser.random_address), count=2)
    await legacy_reports.wait_for(from_address(marker.random_address), count=3)
    assert not [r for r in legacy_reports.items if from_address(advertiser.random_address)(r)]
    report = heard[0]
    assert report.event_type & EXT.EventType.CONNECTABLE_ADVERTISING
    assert not report.event_type & EXT.EventType.LEGACY_ADVERTISING_PDU_USED


@pytest.mark.parametrize("size", [100, 229, 230, 600])
@run
async def test_extended_advertising_long_data_is_fragmented_in_reports(size):
    radio = LocalRadio("fast")
    advertiser, scanner = await host(radio), await host(radio)
    reports = Reports(scanner)
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    properties = AdvertisingEventProperties(
        is_connectable=False, is_scannable=False, is_legacy=False
    )
    advertising_set = await advertiser.create_advertising_set(
        advertising_parameters=AdvertisingParameters(
            advertising_event_properties=properties,
            primary_advertising_interval_min=20,
            primary_advertising_interval_max=20,
        ),
        auto_start=False,
    )
    # The host hands long data over in fragments of at most 251 bytes (Bumble's
    # Device does not split them itself).
    chunks = [data[i : i + 251] for i in range(0, len(data), 251)]
    for index, chunk in enumerate(chunks):
        if len(chunks) == 1:
            operation = Operation.COMPLETE_DATA
        elif index == 0:
            operation = Operation.FIRST_FRAGMENT
        elif index == len(chunks) - 1:
            operation = Operation.LAST_FRAGMENT
        else:
            operation = Operation.INTERMEDIATE_FRAGMENT
        await advertiser.send_sync_command(
            hci.HCI_LE_Set_Extended_Advertising_Data_Command(
                advertising_handle=advertising_set.advertising_handle,
                operation=operation,
                fragment_preference=1,
                advertising_data=chunk,
            )
        )
    await advertising_set.start()
    await scanner.start_scanning(active=False)
    # Reassemble the first complete advertisement: fragments with "more to come"
    # status (1) followed by one with "complete" status (0).
    mine = from_address(advertiser.random_address)
    fragments = []
    while True:
        got = await reports.wait_for(mine, count=len(fragments) + 1)
        report = got[len(fragments)]
        fragments.append(report)
        assert len(report.data) <= 229
        if (report.event_type >> 5) & 3 == EXT.DATA_COMPLETE:
            break
        assert (report.event_type >> 5) & 3 == EXT.DATA_INCOMPLETE_MORE_TO_COME
    assert b"".join(f.data for f in fragments) == data
    assert len(fragments) == -(-size // 229)


@run
async def test_scannable_extended_set_answers_active_scanners_only():
    radio = LocalRadio("fast")
    advertiser, active, passive = await host(radio), await host(radio), await host(radio)
    active_reports, passive_reports = Reports(active), Reports(passive)
    response = bytes(range(200))
    properties = AdvertisingEventProperties(
        is_connectable=False, is_scannable=True, is_legacy=False
    )
    await advertiser.create_advertising_set(
        advertising_parameters=AdvertisingParameters(
            advertising_event_properties=properties,
            primary_advertising_interval_min=20,
            primary_advertising_interval_max=20,
        ),
        scan_response_data=response,
    )
    await active.start_scanning(active=True)
    await passive.start_scanning(active=False)
    mine = from_address(advertiser.random_address)
    responses = await active_reports.wait_for(lambda r: mine(r) and is_scan_response(r), count=2)
    assert responses[0].data == response
    assert responses[0].event_type & EXT.EventType.SCANNABLE_ADVERTISING
    await passive_reports.wait_for(mine, count=3)
    assert not any(is_scan_response(r) for r in passive_reports.items)


@run
async def test_legacy_pdus_refuse_more_than_31_bytes():
    radio = LocalRadio("fast")
    advertiser = await host(radio)
    with pytest.raises(hci.HCI_Error) as error:
        await advertiser.start_advertising(advertising_data=bytes(40))
    assert error.value.error_code == hci.HCI_ErrorCode.INVALID_COMMAND_PARAMETERS_ERROR


@run
async def test_advertising_interval_below_20_ms_is_refused():
    radio = LocalRadio("fast", extended_advertising=False)
    advertiser = await host(radio)
    with pytest.raises(hci.HCI_Error) as error:
        await advertiser.start_advertising(advertising_interval_min=10, advertising_interval_max=10)
    assert error.value.error_code == hci.HCI_ErrorCode.INVALID_COMMAND_PARAMETERS_ERROR


@run
async def test_advertising_repeats_at_its_interval():
    """Two advertisers, 20 ms and 200 ms: over the same time the first is heard far more often."""
    radio = LocalRadio("fast")
    fast, slow, scanner = await host(radio), await host(radio), await host(radio)
    reports = Reports(scanner)
    await scanner.start_scanning(active=False)
    await advertise_legacy(slow, AdvertisingType.UNDIRECTED, b"\x02\x01\x06", interval_ms=200)
    await advertise_legacy(fast, AdvertisingType.UNDIRECTED, b"\x02\x01\x06", interval_ms=20)
    await reports.wait_for(from_address(slow.random_address), count=3)
    fast_count = len([r for r in reports.items if from_address(fast.random_address)(r)])
    # Three slow events span at least 400 ms, in which a 20 ms advertiser sends ~20 times.
    assert fast_count >= 8


@run
async def test_public_addresses_are_unique_on_a_radio():
    radio = LocalRadio("fast")
    devices = [await host(radio) for _ in range(5)]
    addresses = {bytes(d.public_address) for d in devices}
    assert len(addresses) == 5
    assert all(d.public_address != hci.Address.ANY for d in devices)
