"""The controller answers every command, with the exact bytes the Core spec asks for.

Raw H4 over a pty, as a UART host (BTstack, NimBLE, Zephyr) sends it: each test
writes a command packet and reads back the event packet byte for byte.
"""

import importlib
import struct

import pytest
import serial

from bleboard.radio.vendor import static_address_for
from bleboard.tools.hci_pty import h4_controller
from bumble import hci

STEP = 10.0  # seconds any one read may take

# Registers Intel's vendor commands with Bumble's HCI parser; ours must not be parsed as them.
importlib.import_module("bumble.drivers.intel")


@pytest.fixture
def port():
    """A serial port to one virtual controller."""
    with h4_controller() as (path, radio):
        with serial.Serial(path, 1000000, timeout=STEP) as line:
            line.controller = radio.controller(path)
            yield line


def command(op_code, parameters=b""):
    return struct.pack("<BHB", 0x01, op_code, len(parameters)) + parameters


def exchange(port, packet, reply_length):
    port.write(packet)
    reply = port.read(reply_length)
    assert len(reply) == reply_length, f"short answer {reply.hex()}"
    return reply


def command_complete(op_code, return_parameters):
    return struct.pack("<BBBBH", 0x04, 0x0E, 3 + len(return_parameters), 1, op_code) + return_parameters


def command_status(op_code, status):
    return struct.pack("<BBBBBH", 0x04, 0x0F, 4, status, 1, op_code)


# Core spec Vol 6, Part C, 1.1 (Encrypt Command sample data), most significant octet first.
SPEC_KEY = bytes.fromhex("4C68384139F574D836BCF34E9DFB01BF")
SPEC_PLAINTEXT = bytes.fromhex("0213243546576879acbdcedfe0f10213")
SPEC_ENCRYPTED = bytes.fromhex("99ad1b5226a37e3e058e3b8e27c2c666")


def test_le_encrypt_matches_the_spec_sample_data(port):
    # On HCI every multi-octet parameter goes least significant octet first.
    packet = command(0x2017, SPEC_KEY[::-1] + SPEC_PLAINTEXT[::-1])
    assert exchange(port, packet, 6 + 17) == command_complete(0x2017, b"\x00" + SPEC_ENCRYPTED[::-1])


def test_le_encrypt_with_short_parameters_is_refused_not_ignored(port):
    packet = command(0x2017, SPEC_KEY[::-1])  # no plaintext
    assert exchange(port, packet, 7) == command_complete(0x2017, bytes([0x12]))  # Invalid HCI Command Parameters
    assert exchange(port, command(0x0C03), 7) == command_complete(0x0C03, b"\x00")  # still answering


def test_le_rand_gives_8_fresh_random_octets(port):
    answers = [exchange(port, command(0x2018), 6 + 9) for _ in range(3)]
    for answer in answers:
        assert answer[:7] == command_complete(0x2018, b"\x00" + bytes(8))[:7]
    numbers = {answer[7:] for answer in answers}
    assert len(numbers) == 3


def test_le_encrypt_and_rand_are_listed_as_supported(port):
    answer = exchange(port, command(0x1002), 6 + 65)  # Read Local Supported Commands
    supported = answer[7:]
    assert len(supported) == 64
    assert answer[:7] == command_complete(0x1002, b"\x00" + supported)[:7]
    # Vol 4, Part E, 6.27: octet 27 bit 6 is LE Encrypt, bit 7 is LE Rand.
    assert supported[27] & 0xC0 == 0xC0


def test_an_unknown_opcode_gets_command_complete_unknown_command(port):
    assert exchange(port, command(0x23FE, b"\x01\x02"), 7) == command_complete(0x23FE, b"\x01")


def test_an_unimplemented_asynchronous_command_gets_command_status(port):
    # HCI_Inquiry is BR/EDR: this LE-only controller does not implement it.
    assert exchange(port, command(0x0401, bytes([0x33, 0x8B, 0x9E, 0x08, 0x00])), 7) == command_status(0x0401, 0x01)


def test_malformed_parameters_of_an_asynchronous_command_get_command_status(port):
    # LE Create Connection with 3 of its 25 parameter octets.
    assert exchange(port, command(0x200D, b"\x60\x00\x30"), 7) == command_status(0x200D, 0x12)


def test_zephyr_read_static_addresses(port):
    answer = exchange(port, command(0xFC09), 6 + 24)
    address = static_address_for(port.controller.public_address)
    assert answer == command_complete(0xFC09, b"\x00\x01" + address.address_bytes + bytes(16))
    assert address.address_bytes[5] & 0xC0 == 0xC0  # a static random address (Vol 6, Part B, 1.3.2.1)
    assert address.address_bytes[:5] == port.controller.public_address.address_bytes[:5]


def test_zephyr_read_static_addresses_with_parameters_is_refused(port):
    assert exchange(port, command(0xFC09, b"\x00"), 7) == command_complete(0xFC09, b"\x12")


def test_zephyr_write_bd_addr_from_raw_bytes(port):
    chosen = bytes([0x66, 0x55, 0x44, 0x33, 0x22, 0xF1])  # F1:22:33:44:55:66, least significant octet first
    assert exchange(port, command(0xFC06, chosen), 7) == command_complete(0xFC06, b"\x00")
    answer = exchange(port, command(0x1009), 6 + 7)  # Read BD_ADDR
    assert answer == command_complete(0x1009, b"\x00" + chosen)
    assert exchange(port, command(0xFC06, chosen[:5]), 7) == command_complete(0xFC06, b"\x12")


@pytest.mark.parametrize("op_code", [0xFC01, 0xFC05, 0xFC8B, 0xFC0F], ids=["fc01", "fc05-intel", "fc8b", "fc0f"])
def test_other_vendor_opcodes_are_unknown_commands_not_intel_ones(port, op_code):
    assert hci.HCI_Command.command_classes.get(0xFC05) is not None  # Intel's class is registered in this process
    assert exchange(port, command(op_code, b"\x00"), 7) == command_complete(op_code, b"\x01")


def test_commands_in_a_row_are_each_answered_in_order(port):
    """A host pipelining commands (one per free slot) gets one answer per command, none lost."""
    sequence = [
        (command(0x0C03), command_complete(0x0C03, b"\x00")),
        (command(0x23FE), command_complete(0x23FE, b"\x01")),
        (command(0x2017, b"\x00"), command_complete(0x2017, b"\x12")),
        (command(0xFC33), command_complete(0xFC33, b"\x01")),
        (command(0x0C03), command_complete(0x0C03, b"\x00")),
    ]
    port.write(b"".join(packet for packet, _ in sequence))
    expected = b"".join(answer for _, answer in sequence)
    assert port.read(len(expected)) == expected
