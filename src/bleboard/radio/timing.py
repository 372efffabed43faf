"""Link-layer timing arithmetic: air time of a PDU, what fits in a connection event.

Pure functions, no state, so the numbers can be checked by hand against the
Core spec (Vol 6, Part A 3 and Part B 2.1, 4.5).  The scheduler in link.py
uses them to decide how many LL data PDUs each side gets through in one
connection event; the link-layer benchmark uses them for the throughput a
board could reach.

A connection event is a train of exchanges: the central sends one PDU, the
peripheral answers T_IFS (150 us) later with one PDU, and the next exchange
starts T_IFS after that.  A side with nothing to send sends an empty PDU.
The event goes on while either side has more data and the next exchange
(and the T_IFS that follows it) still ends before the event length runs out.
"""

from __future__ import annotations

import math

T_IFS_US = 150  # inter frame space (Vol 6, Part B, 4.1.1)
INTERVAL_UNIT_US = 1250  # connection interval and CE length ... units (Vol 4, Part E, 7.8.12)
SUPERVISION_UNIT_US = 10_000
CE_LENGTH_UNIT_US = 625

# PHYs, with the values of HCI_LE_Set_PHY / HCI_LE_PHY_Update_Complete.
LE_1M, LE_2M, LE_CODED = 1, 2, 3
# Coding of the LE Coded PHY: S=8 (125 kb/s) or S=2 (500 kb/s).
CODED_S8, CODED_S2 = 8, 2

HEADER_OCTETS = 2  # LL data PDU header (LLID, NESN, SN, MD, length)
CRC_OCTETS = 3
ACCESS_ADDRESS_OCTETS = 4
MIC_OCTETS = 4  # only on encrypted PDUs with a non-empty payload

# Data length limits (Vol 6, Part B, 4.5.10).
MIN_OCTETS = 27
MAX_OCTETS = 251
MIN_TIME_UNCODED_US = 328
MIN_TIME_CODED_US = 2704
MAX_TIME_US = 17040

# Instant of a connection update or PHY update: at least 6 events ahead (Vol 6, Part B, 5.1.1).
INSTANT_MARGIN_EVENTS = 6


def check_phy(phy: int, coding: int = CODED_S8) -> None:
    """ValueError naming the argument for a PHY or coding the air does not know."""
    if phy not in (LE_1M, LE_2M, LE_CODED):
        raise ValueError(f"phy must be 1 (1M), 2 (2M) or 3 (Coded), not {phy!r}")
    if phy == LE_CODED and coding not in (CODED_S8, CODED_S2):
        raise ValueError(f"coding must be 8 (S=8) or 2 (S=2), not {coding!r}")


def air_time_us(payload: int, phy: int = LE_1M, encrypted: bool = False, coding: int = CODED_S8) -> float:
    """Air time of one LL data PDU carrying `payload` octets, in microseconds.

    Uncoded: (preamble + access address + header + payload [+ MIC] + CRC)
    bits at 1 us/bit (1M, 1-octet preamble) or 0.5 us/bit (2M, 2-octet
    preamble).  Coded (Vol 6, Part A, 3.3 and Part B, 2.2): an 80 us
    preamble, then FEC block 1 always at S=8 (access address 32 bits,
    coding indicator 2, TERM1 3: 296 us), then FEC block 2 (header, payload,
    MIC, CRC and the 3-bit TERM2) at S=8 or S=2.
    """
    check_phy(phy, coding)
    if payload < 0 or payload > MAX_OCTETS:
        raise ValueError(f"payload must be 0-{MAX_OCTETS} octets, not {payload!r}")
    body = HEADER_OCTETS + payload + CRC_OCTETS + (MIC_OCTETS if encrypted and payload else 0)
    if phy == LE_1M:
        return (1 + ACCESS_ADDRESS_OCTETS + body) * 8 * 1.0
    if phy == LE_2M:
        return (2 + ACCESS_ADDRESS_OCTETS + body) * 8 * 0.5
    return 80 + (32 + 2 + 3) * 8 + (body * 8 + 3) * coding


def max_payload_in_time(max_time_us: float, phy: int = LE_1M, encrypted: bool = False, coding: int = CODED_S8) -> int:
    """The largest payload whose PDU lasts at most `max_time_us` (at least 27, as the spec guarantees)."""
    best = MIN_OCTETS
    for payload in range(MAX_OCTETS, MIN_OCTETS - 1, -1):
        if air_time_us(payload, phy, encrypted, coding) <= max_time_us:
            best = payload
            break
    return best


def effective_max_octets(tx_octets: int, tx_time_us: int, rx_octets: int, rx_time_us: int, phy: int,
                         coding: int = CODED_S8) -> int:
    """connEffectiveMaxTxOctets for one direction (Vol 6, Part B, 4.5.10).

    The sender's maximum against the receiver's, each bounded by what fits in
    its maximum time on the PHY in use.  The time limits count the MIC, as
    the spec's figures do (328 us = 27 octets + MIC on 1M).
    """
    octets = min(tx_octets, rx_octets)
    floor_time = MIN_TIME_CODED_US if phy == LE_CODED else MIN_TIME_UNCODED_US
    time_us = max(min(tx_time_us, rx_time_us), floor_time)
    return max(MIN_OCTETS, min(octets, max_payload_in_time(time_us, phy, True, coding)))


def exchange_us(central_payload: int, peripheral_payload: int, central_phy: int, peripheral_phy: int,
                encrypted: bool = False, coding: int = CODED_S8) -> float:
    """One exchange and the T_IFS after it: central PDU, T_IFS, peripheral PDU, T_IFS."""
    return (
        air_time_us(central_payload, central_phy, encrypted, coding)
        + T_IFS_US
        + air_time_us(peripheral_payload, peripheral_phy, encrypted, coding)
        + T_IFS_US
    )


def plan_event(central, peripheral, event_length_us: float, central_phy: int = LE_1M, peripheral_phy: int = LE_1M,
               encrypted: bool = False, coding: int = CODED_S8):
    """How many queued PDUs each side sends in one connection event.

    `central` and `peripheral` are the payload lengths queued on each side,
    oldest first.  Returns (central_sent, peripheral_sent, used_us).  The
    first exchange always happens (it opens the event at the anchor); a
    further one only while a side has more data (the MD bit) and it fits in
    `event_length_us`.
    """
    used = 0.0
    sent_c = sent_p = 0
    while True:
        c = central[sent_c] if sent_c < len(central) else 0
        p = peripheral[sent_p] if sent_p < len(peripheral) else 0
        step = exchange_us(c, p, central_phy, peripheral_phy, encrypted, coding)
        if used and used + step > event_length_us:
            break
        used += step
        sent_c += sent_c < len(central)
        sent_p += sent_p < len(peripheral)
        if sent_c >= len(central) and sent_p >= len(peripheral):
            break
    return sent_c, sent_p, used


def event_length_us(interval: int, max_ce_length: int = 0) -> float:
    """How long a connection event may last: the host's maximum CE length if it gave one, never past the next anchor.

    `interval` in 1.25 ms units, `max_ce_length` in 0.625 ms units (0: no
    limit, the controller keeps the event open up to the next anchor).
    """
    whole = interval * INTERVAL_UNIT_US
    if max_ce_length:
        return min(whole, max_ce_length * CE_LENGTH_UNIT_US)
    return whole


def bulk_pdus_per_event(payload: int, event_us: float, phy: int = LE_1M, encrypted: bool = False,
                        coding: int = CODED_S8) -> int:
    """Full PDUs one side sends per event in a one-way bulk transfer (the other side answers empty)."""
    step = exchange_us(payload, 0, phy, phy, encrypted, coding)
    return max(1, math.floor(event_us / step))


def bulk_throughput(payload: int, interval: int, phy: int = LE_1M, max_ce_length: int = 0, encrypted: bool = False,
                    coding: int = CODED_S8) -> float:
    """LL payload octets per second of a one-way bulk transfer of full `payload`-octet PDUs."""
    event_us = event_length_us(interval, max_ce_length)
    per_event = bulk_pdus_per_event(payload, event_us, phy, encrypted, coding)
    return per_event * payload / (interval * INTERVAL_UNIT_US / 1e6)


def choose_interval(interval_min: int, interval_max: int) -> int:
    """The interval the controller picks from the host's range: the maximum, as NimBLE's controller does."""
    return interval_max


def update_instant(event_counter: int, latency: int) -> int:
    """The connection event counter at which an update takes effect (16-bit, wraps)."""
    return (event_counter + latency + INSTANT_MARGIN_EVENTS + 1) & 0xFFFF


def supervision_timeout_s(timeout: int) -> float:
    """Supervision timeout in seconds from its 10 ms units."""
    return timeout * SUPERVISION_UNIT_US / 1e6
