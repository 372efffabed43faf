# The aioble L2CAP file server and client examples (examples/aioble_l2cap_file_*.py),
# run against each other: the client lists the served directory and downloads
# every file intact; a missing file is answered as such.
import os
import sys
import asyncio
import bluetooth
import aioble

if not hasattr(bluetooth.BLE, "l2cap_connect"):
    print("SKIP")
    raise SystemExit

sys.path.append("../../examples")
FILES = {"small.txt": b"hello over L2CAP\n", "big.bin": bytes((i * 13) & 0xFF for i in range(3000))}


def quiet(*args):
    pass


def instance0():
    import aioble_l2cap_file_server as server

    import random

    directory = "aioble_example_files_%08x" % random.getrandbits(32)  # other runs may share this directory
    os.mkdir(directory)
    try:
        for name in FILES:
            with open(directory + "/" + name, "wb") as f:
                f.write(FILES[name])
        multitest.next()
        asyncio.run(server.main(directory, connections=1, log=quiet))
        print("server served one connection")
    finally:
        aioble.stop()
        for name in os.listdir(directory):
            os.remove(directory + "/" + name)
        os.rmdir(directory)


def instance1():
    import aioble_l2cap_file_client as client

    multitest.next()
    got = []
    try:
        files = asyncio.run(client.main(log=lambda *args: got.append(args)))
    finally:
        aioble.stop()
    for name in sorted(files):
        print(name, len(files[name]), files[name] == FILES[name])
    print(got[-1])
