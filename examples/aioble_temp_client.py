"""Temperature client with aioble: a central with a GATT client.

Scans for a device advertising the Environmental Sensing service (see
examples/aioble_temp_sensor.py), connects, reads the temperature, subscribes
and prints every notified reading:

    bleboard run examples/aioble_temp_client.py
"""

import asyncio
import struct

import bluetooth
import aioble

ENV_SENSE_UUID = bluetooth.UUID(0x181A)
TEMPERATURE_UUID = bluetooth.UUID(0x2A6E)


def decode_temperature(data):
    return struct.unpack("<h", data)[0] / 100


async def find_sensor(timeout_ms):
    async with aioble.scan(timeout_ms, interval_us=30000, window_us=30000, active=True) as scanner:
        async for result in scanner:
            if ENV_SENSE_UUID in result.services():
                return result.device
    return None


async def main(readings=None, timeout_ms=5000, log=print):
    """Returns the temperatures read: the first by a read, the others notified."""
    device = await find_sensor(timeout_ms)
    if device is None:
        log("no temperature sensor found")
        return []
    log("connecting to", device)
    values = []
    async with await device.connect(timeout_ms=timeout_ms) as conn:
        service = await conn.service(ENV_SENSE_UUID, timeout_ms)
        temperature = await service.characteristic(TEMPERATURE_UUID, timeout_ms)
        values.append(decode_temperature(await temperature.read(timeout_ms)))
        log("temperature: %.2f C (read)" % values[-1])
        await temperature.subscribe(notify=True)
        while readings is None or len(values) < readings:
            values.append(decode_temperature(await temperature.notified(timeout_ms)))
            log("temperature: %.2f C" % values[-1])
    return values


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        aioble.stop()
