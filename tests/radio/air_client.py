"""A board in its own process for the radio server tests.

    python air_client.py SPEC|default [advertise] [again]

Opens the HCI transport (open_hci(SPEC), or open_hci() for "default"),
powers on a Bumble host, optionally advertises connectably, prints one line
"ready PUBLIC_ADDRESS RANDOM_ADDRESS" and then stays on the air until its
stdin closes (or it is killed).  With "again" it first joins once, prints
"first PUBLIC_ADDRESS" and leaves, as a program restarting BLE does.
"""

import asyncio
import sys

from bumble import hci
from bumble.device import Device

from bleboard.radio.transport import open_hci


async def main(spec, advertise, again):
    if again:
        transport = await open_hci(None if spec == "default" else spec)
        device = Device.with_hci("client", hci.Address.generate_static_address(), transport.source, transport.sink)
        await device.power_on()
        print("first", device.public_address.to_string(False), flush=True)
        await transport.close()
    transport = await open_hci(None if spec == "default" else spec)
    device = Device.with_hci("client", hci.Address.generate_static_address(), transport.source, transport.sink)
    await device.power_on()
    if advertise:
        await device.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
    print("ready", device.public_address.to_string(False), device.random_address.to_string(False), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    await transport.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], "advertise" in sys.argv[2:], "again" in sys.argv[2:]))
