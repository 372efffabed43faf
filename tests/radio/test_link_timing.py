"""Air time and connection-event capacity, against numbers worked by hand from the Core spec.

1M: (1 preamble + 4 access address + 2 header + payload + 3 CRC) octets x 8 us.
2M: (2 + 4 + 2 + payload + 3) octets x 4 us.
Coded: 80 us preamble + 296 us FEC block 1 + (8 x (5 + payload) + 3) bits x S us.
The spec's own data-length limits check these: 328 us is 27 octets with a MIC on
1M, 2120 us is 251 with a MIC, 2704 us and 17040 us the same on Coded S=8.
"""

import pytest

from bleboard.radio import timing
from bleboard.radio.timing import LE_1M, LE_2M, LE_CODED


@pytest.mark.parametrize(
    "payload, phy, encrypted, coding, expected",
    [
        (0, LE_1M, False, 8, 80),  # empty PDU: 10 octets
        (27, LE_1M, False, 8, 296),
        (27, LE_1M, True, 8, 328),  # connInitialMaxTxTime
        (251, LE_1M, False, 8, 2088),
        (251, LE_1M, True, 8, 2120),  # the spec's maximum uncoded time for 251 octets
        (0, LE_2M, False, 8, 44),  # 11 octets at 4 us
        (27, LE_2M, False, 8, 152),
        (251, LE_2M, False, 8, 1048),
        (251, LE_2M, True, 8, 1064),
        (0, LE_CODED, False, 8, 720),  # the well-known empty coded S=8 packet
        (27, LE_CODED, True, 8, 2704),  # connInitialMaxTxTime on Coded
        (251, LE_CODED, True, 8, 17040),  # 0x4290, the largest time HCI accepts
        (0, LE_CODED, False, 2, 462),
        (0, LE_1M, True, 8, 80),  # no MIC on an empty PDU
    ],
)
def test_air_time_matches_the_spec(payload, phy, encrypted, coding, expected):
    assert timing.air_time_us(payload, phy, encrypted, coding) == expected


def test_bad_phy_coding_and_payload_are_refused_by_name():
    with pytest.raises(ValueError, match="phy"):
        timing.air_time_us(10, 4)
    with pytest.raises(ValueError, match="coding"):
        timing.air_time_us(10, LE_CODED, coding=4)
    with pytest.raises(ValueError, match="payload"):
        timing.air_time_us(252)


def test_one_exchange_is_two_pdus_and_two_inter_frame_spaces():
    # 27-octet PDU on 1M (296) + T_IFS + empty answer (80) + T_IFS
    assert timing.exchange_us(27, 0, LE_1M, LE_1M) == 296 + 150 + 80 + 150 == 676
    # 251 octets on 2M and an empty answer: 1048 + 150 + 44 + 150
    assert timing.exchange_us(251, 0, LE_2M, LE_2M) == 1392


@pytest.mark.parametrize(
    "payload, phy, interval, per_event",
    [
        (27, LE_1M, 6, 11),  # 7500 / 676 = 11.09
        (27, LE_1M, 24, 44),  # 30000 / 676 = 44.4
        (27, LE_1M, 40, 73),  # 50000 / 676 = 73.96
        (251, LE_1M, 6, 3),  # 7500 / 2468 = 3.04
        (251, LE_1M, 40, 20),  # 50000 / 2468 = 20.26
        (27, LE_2M, 6, 15),  # 7500 / (152 + 150 + 44 + 150) = 15.1
        (251, LE_2M, 6, 5),  # 7500 / 1392 = 5.39
        (251, LE_2M, 24, 21),  # 30000 / 1392 = 21.55
        (251, LE_2M, 40, 35),  # 50000 / 1392 = 35.9
    ],
)
def test_bulk_pdus_per_event(payload, phy, interval, per_event):
    event = timing.event_length_us(interval)
    assert timing.bulk_pdus_per_event(payload, event, phy) == per_event
    # plan_event agrees when one side has a long backlog and the other nothing.
    sent_c, sent_p, used = timing.plan_event([payload] * 500, [], event, phy, phy)
    assert (sent_c, sent_p) == (per_event, 0)
    assert used == per_event * timing.exchange_us(payload, 0, phy, phy) <= event


def test_throughput_ceilings_quoted_for_ble():
    # 2M with 251-octet PDUs at 7.5 ms: 5 x 251 octets per 7.5 ms, about 167 kB/s.
    assert timing.bulk_throughput(251, 6, LE_2M) == pytest.approx(5 * 251 / 0.0075)
    # 1M without data length extension at 7.5 ms: 11 x 27 octets per 7.5 ms.
    assert timing.bulk_throughput(27, 6, LE_1M) == pytest.approx(11 * 27 / 0.0075)


def test_event_with_nothing_queued_is_one_empty_exchange():
    assert timing.plan_event([], [], 7500) == (0, 0, 460)


def test_both_sides_share_an_event_and_a_long_pdu_still_opens_one():
    sent_c, sent_p, used = timing.plan_event([27, 27], [27], 7500)
    assert (sent_c, sent_p) == (2, 1)
    assert used == timing.exchange_us(27, 27, LE_1M, LE_1M) + timing.exchange_us(27, 0, LE_1M, LE_1M)
    # The first exchange always happens, even when it is longer than the event.
    assert timing.plan_event([251, 251], [], 1000)[:2] == (1, 0)


def test_event_length_is_the_hosts_maximum_ce_length_when_shorter():
    assert timing.event_length_us(24) == 30000
    assert timing.event_length_us(24, max_ce_length=16) == 10000  # 16 x 0.625 ms
    assert timing.event_length_us(6, max_ce_length=100) == 7500


def test_effective_data_length_is_bounded_by_octets_and_time():
    assert timing.effective_max_octets(251, 2120, 251, 2120, LE_1M) == 251
    assert timing.effective_max_octets(251, 2120, 27, 2120, LE_1M) == 27
    assert timing.effective_max_octets(251, 328, 251, 2120, LE_1M) == 27  # 328 us holds 27 octets + MIC on 1M
    # On 2M 328 us holds 67 octets + MIC: 44 + 4 x (67 + 4) = 328.
    assert timing.effective_max_octets(251, 328, 251, 2120, LE_2M) == 67
    # On Coded the time never goes below 2704 us (27 octets + MIC at S=8).
    assert timing.effective_max_octets(251, 328, 251, 328, LE_CODED) == 27


def test_instant_and_interval_choice():
    assert timing.update_instant(100, 0) == 107
    assert timing.update_instant(100, 4) == 111
    assert timing.update_instant(0xFFFF, 2) == 8  # 16-bit counter wraps
    assert timing.choose_interval(24, 40) == 40
    assert timing.supervision_timeout_s(256) == pytest.approx(2.56)
