"""btsnoop capture: a file Wireshark reads (header, datalink H4, both directions, flushed as it goes)."""

import asyncio

from radio_helpers import host, read_btsnoop, run

from bleboard.radio.local import LocalRadio
from bleboard.radio.snoop import wrap_transport
from bleboard.radio.transport import on_transport_lost

HCI_RESET = bytes([0x01, 0x03, 0x0C, 0x00])


def test_snoop_records_both_directions(tmp_path):
    path = str(tmp_path / "board.btsnoop")

    @run
    async def scenario():
        radio = LocalRadio("fast")
        transport = wrap_transport(radio.attach(), path)
        lost = []
        on_transport_lost(transport, lambda: lost.append(True))
        device = await host(transport=transport)
        await device.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        # Readable while the board still runs: every record is flushed.
        version, datalink, records = read_btsnoop(path)
        assert (version, datalink) == (1, 1002)
        assert records[0] == (0x02, HCI_RESET)  # host to controller, command
        assert any(flags == 0x03 and packet[0] == 0x04 for flags, packet in records)  # events
        radio.close()
        await transport.source.terminated
        await asyncio.sleep(0)  # done-callbacks run on the next loop iteration
        assert lost == [True]
        await transport.close()

    scenario()
    _, _, records = read_btsnoop(path)
    commands = [packet for flags, packet in records if flags == 0x02]
    # LE Set Extended Advertising Enable (0x2039) went through the snoop, and was answered.
    assert any(packet[1:3] == bytes([0x39, 0x20]) for packet in commands)
    events = [packet for flags, packet in records if flags == 0x03]
    assert any(packet[1] == 0x0E and packet[4:6] == bytes([0x39, 0x20]) for packet in events)
