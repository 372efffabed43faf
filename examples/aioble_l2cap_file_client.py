"""L2CAP file client with aioble: finds examples/aioble_l2cap_file_server.py,
lists its files and downloads them (into memory, or into a directory).

    bleboard run examples/aioble_l2cap_file_client.py [DIRECTORY]
"""

import asyncio
import struct

import aioble

PSM = 0x0081
MTU = 240
ADV_NAME = "aioble-files"
NOT_FOUND = 0xFFFFFFFF
PSM_NOT_SUPPORTED = 8  # the status a refused "no server on that PSM" connect reports


async def recv_exact(channel, n, timeout_ms):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        got += await channel.recvinto(view[got:], timeout_ms)
    return buf


async def request(channel, message, timeout_ms):
    """Send one request; returns the answer's bytes, or None for 'no such file'."""
    await channel.send(struct.pack("<I", len(message)) + message, timeout_ms)
    (n,) = struct.unpack("<I", await recv_exact(channel, 4, timeout_ms))
    if n == NOT_FOUND:
        return None
    return await recv_exact(channel, n, timeout_ms)


async def open_channel(conn, timeout_ms):
    """The server starts listening on PSM only once it has our connection, so a request
    sent right after connecting can find nobody there yet: ask again for a while."""
    tries = max(1, timeout_ms // 100)
    for attempt in range(tries):
        try:
            return await conn.l2cap_connect(PSM, MTU, timeout_ms)
        except aioble.L2CAPConnectionError as e:
            if e.args[0] != PSM_NOT_SUPPORTED or attempt == tries - 1:
                raise
        await asyncio.sleep(0.1)


async def find_server(timeout_ms):
    async with aioble.scan(timeout_ms, interval_us=30000, window_us=30000, active=True) as scanner:
        async for result in scanner:
            if result.name() == ADV_NAME:
                return result.device
    return None


async def main(directory=None, timeout_ms=5000, log=print):
    """Returns {name: content} of every file the server lists (also written to directory)."""
    device = await find_server(timeout_ms)
    if device is None:
        log("no file server found")
        return {}
    files = {}
    async with await device.connect(timeout_ms=timeout_ms) as conn:
        async with await open_channel(conn, timeout_ms) as channel:
            names = (await request(channel, b"L", timeout_ms)).decode().split("\n")
            for name in names:
                if not name:
                    continue
                data = await request(channel, b"G" + name.encode(), timeout_ms)
                log(name, len(data), "bytes")
                files[name] = data
                if directory:
                    with open(directory + "/" + name, "wb") as f:
                        f.write(data)
            missing = await request(channel, b"Gno-such-file", timeout_ms)
            log("missing file answered", missing)
    return files


if __name__ == "__main__":
    import sys

    try:
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
    finally:
        aioble.stop()
