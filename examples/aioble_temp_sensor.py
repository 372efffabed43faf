"""Temperature sensor with aioble: a peripheral with a GATT server.

Advertises the Environmental Sensing service and keeps its Temperature
characteristic up to date, notifying subscribed clients. The same file runs on
a MicroPython board with aioble frozen in, and on the desktop:

    bleboard run examples/aioble_temp_sensor.py

Pair it with examples/aioble_temp_client.py on another board or terminal.
"""

import asyncio
import struct

import bluetooth
import aioble

ENV_SENSE_UUID = bluetooth.UUID(0x181A)
TEMPERATURE_UUID = bluetooth.UUID(0x2A6E)  # sint16, in 0.01 degrees Celsius
APPEARANCE_THERMOMETER = 768
ADV_INTERVAL_US = 250000


def encode_temperature(celsius):
    return struct.pack("<h", round(celsius * 100))


def read_sensor(step):
    # Stands in for a real sensor: a saw-tooth from 20 to 25 degrees in 0.25 steps.
    return 20 + (step % 21) * 0.25


async def measure(temperature, interval_ms):
    step = 0
    while True:
        temperature.write(encode_temperature(read_sensor(step)), send_update=True)
        step += 1
        await asyncio.sleep(interval_ms / 1000)


async def serve(connections, log):
    # One central at a time; advertise again after each disconnection.
    served = 0
    while connections is None or served < connections:
        conn = await aioble.advertise(
            ADV_INTERVAL_US,
            name="aioble-temp",
            services=[ENV_SENSE_UUID],
            appearance=APPEARANCE_THERMOMETER,
        )
        log("connected:", conn.device)
        await conn.disconnected(timeout_ms=None)
        log("disconnected")
        served += 1


async def main(connections=None, interval_ms=1000, log=print):
    service = aioble.Service(ENV_SENSE_UUID)
    temperature = aioble.Characteristic(
        service, TEMPERATURE_UUID, read=True, notify=True, initial=encode_temperature(read_sensor(0))
    )
    aioble.register_services(service)
    sensor = asyncio.create_task(measure(temperature, interval_ms))
    try:
        await serve(connections, log)
    finally:
        sensor.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        aioble.stop()
