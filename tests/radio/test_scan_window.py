"""Scan windows and advDelay: a scanner hears advertisers only inside its windows."""

import asyncio

import pytest
from bumble.device import AdvertisingType
from radio_helpers import Reports, advertise_legacy, from_address, host, run

from bleboard.radio import advertising, scanning
from bleboard.radio.local import LocalRadio


@pytest.mark.parametrize("extended", [False, True], ids=["legacy", "extended"])
@run
async def test_scanner_hears_only_inside_its_windows(extended):
    radio = LocalRadio("board", extended_advertising=extended)
    advertiser, scanner = await host(radio), await host(radio)
    await advertise_legacy(advertiser, AdvertisingType.UNDIRECTED_SCANNABLE, b"\x02\x01\x06", interval_ms=20)
    air_scanner = scanner.transport.controller.scanner
    loop = asyncio.get_running_loop()
    accepted, rejected = [], []
    original = air_scanner._report

    def record(pdu, data, scan_response):  # the real report still goes to the host
        accepted.append(loop.time())
        original(pdu, data, scan_response)

    air_scanner._report = record
    original_on_pdu = air_scanner.on_advertising_pdu

    def count(pdu):
        before = len(accepted)
        original_on_pdu(pdu)
        if len(accepted) == before and air_scanner.enabled:
            rejected.append(loop.time())

    air_scanner.on_advertising_pdu = count
    reports = Reports(scanner)
    # 10 ms window every 100 ms, passive (so one report per PDU heard).
    await scanner.start_scanning(active=False, scan_interval=100, scan_window=10, filter_duplicates=False)
    assert (air_scanner.interval, air_scanner.window) == (160, 16)
    await reports.wait_for(from_address(advertiser.random_address), count=3)
    await scanner.stop_scanning()
    interval, window = 160 * scanning.SCAN_UNIT_S, 16 * scanning.SCAN_UNIT_S
    assert all((t - air_scanner._started) % interval < window for t in accepted)
    # Advertising events are at least 20 ms apart, so a 10 ms window holds one at most: three
    # reports took three windows, and the 90 ms between them held advertising events unheard.
    assert len(rejected) >= 2


@run
async def test_adv_delay_is_within_the_spec_range_and_repeatable():
    # The same board (same address) on two radios draws the same advDelay sequence.
    delays = []
    for _ in range(2):
        controller = LocalRadio("board").attach("board").controller
        delays.append([controller.le_legacy_advertiser.adv_delay_s() for _ in range(50)])
    assert delays[0] == delays[1]
    assert all(0.0 <= d <= advertising.ADV_DELAY_MAX_S for d in delays[0])
    assert len(set(delays[0])) > 1
