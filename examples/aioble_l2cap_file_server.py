"""L2CAP file server with aioble: serves the files of one directory over an
L2CAP connection-oriented channel (a peripheral that accepts one channel per
connection).

Protocol, every message framed as <length: uint32 little-endian><bytes>:
    request  b"L"         -> the file names, one per line
    request  b"G" + name  -> the file's content (length 0xFFFFFFFF: no such file)
The client closes the channel when it is done.

    bleboard run examples/aioble_l2cap_file_server.py [DIRECTORY]
"""

import asyncio
import os
import struct

import aioble

PSM = 0x0081
MTU = 240
ADV_NAME = "aioble-files"
NOT_FOUND = 0xFFFFFFFF
CHUNK = 512


async def recv_exact(channel, n, timeout_ms):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        got += await channel.recvinto(view[got:], timeout_ms)
    return buf


async def recv_message(channel, timeout_ms=None):
    (n,) = struct.unpack("<I", await recv_exact(channel, 4, timeout_ms))
    return await recv_exact(channel, n, timeout_ms)


async def send_file(channel, path):
    try:
        size = os.stat(path)[6]
        f = open(path, "rb")
    except OSError:
        await channel.send(struct.pack("<I", NOT_FOUND))
        return
    with f:
        await channel.send(struct.pack("<I", size))
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            await channel.send(data)


async def serve_channel(channel, directory, log):
    try:
        while True:
            request = await recv_message(channel)
            if request == b"L":
                names = "\n".join(sorted(os.listdir(directory))).encode()
                await channel.send(struct.pack("<I", len(names)) + names)
            elif request[:1] == b"G":
                name = request[1:].decode()
                log("sending", name)
                if "/" in name:  # only the served directory
                    await channel.send(struct.pack("<I", NOT_FOUND))
                else:
                    await send_file(channel, directory + "/" + name)
            await channel.flush()
    except aioble.L2CAPDisconnectedError:
        log("channel closed")


async def main(directory=".", connections=None, log=print):
    served = 0
    while connections is None or served < connections:
        conn = await aioble.advertise(250000, name=ADV_NAME)
        log("connected:", conn.device)
        try:
            channel = await conn.l2cap_accept(PSM, MTU, timeout_ms=10000)
            await serve_channel(channel, directory, log)
            await conn.disconnected(timeout_ms=10000)
        except (asyncio.TimeoutError, aioble.DeviceDisconnectedError):
            pass
        log("disconnected")
        served += 1


if __name__ == "__main__":
    import sys

    try:
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "."))
    finally:
        aioble.stop()
