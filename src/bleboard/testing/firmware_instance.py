"""A multitest participant that is real MicroPython: the unix port built with NimBLE or BTstack.

`-i micropython` (NimBLE) and `-i micropython-btstack` start the firmware
binary (built on first use and cached, see bleboard.tools.firmware_build) with
`-c SCRIPT`, and give it a fresh controller on the test's private radio behind
a pty ($MICROPYBTUART). The controller is the same VirtualController every
CPython board gets, so a real NimBLE host and a bleboard host meet on one air.
When the instance ends its controller leaves the air, as a board switched off.
"""

import os

from bleboard.testing.instance import InstanceError, ProcessInstance

# kind -> BLE host stack of the unix firmware
STACK_OF_KIND = {"micropython": "nimble", "micropython-nimble": "nimble", "micropython-btstack": "btstack"}

CONTROLLER_TIMEOUT = 20.0  # s for the radio to give a new controller (it can be slow on a busy machine)

_binaries = {}  # stack -> path, once built or found in the cache in this process


REQUIRE_ENV = "BLEBOARD_REQUIRE_FIRMWARE"  # set (CI does): no source or toolchain is an error, not a skip


class FirmwareUnavailable(InstanceError):
    """No MicroPython source or no toolchain here: tests skip with this message; a failed build is an error."""


def _unavailable(message):
    if os.environ.get(REQUIRE_ENV):
        return InstanceError(message + " (and %s is set)" % REQUIRE_ENV)
    return FirmwareUnavailable(message)


def firmware_binary(stack):
    """The firmware binary for `stack`, building it if the cache does not have it (raises InstanceError)."""
    if stack not in _binaries:
        from bleboard.tools import firmware_build as fb

        try:
            if fb.missing_tools():
                raise _unavailable("micropython (%s) firmware: the build needs %s on PATH"
                                   % (stack, " and ".join(fb.missing_tools())))
            _binaries[stack] = fb.build(stack)
        except fb.SourceMissing as exc:
            raise _unavailable("micropython (%s) firmware: %s" % (stack, exc)) from None
        except fb.FirmwareBuildError as exc:
            raise InstanceError("micropython (%s) firmware: %s" % (stack, exc)) from None
    return _binaries[stack]


class FirmwareInstance(ProcessInstance):
    """The unix firmware as a child process, with its own pty controller on the radio."""

    def __init__(self, binary, env, name, radio_addr):
        super().__init__([binary], env, name)
        self.radio_addr = radio_addr
        self.controller = None

    def start(self, script, cwd):
        from bleboard.radio.pty_controller import open_pty_controller

        if not self.radio_addr:
            raise InstanceError("%s needs a radio to put its controller on" % self.name)
        try:
            self.controller = open_pty_controller(self.radio_addr, timeout=CONTROLLER_TIMEOUT)
        except OSError as exc:
            raise InstanceError("%s: no controller on radio %s: %s" % (self.name, self.radio_addr, exc)) from None
        self.env = dict(self.env if self.env is not None else os.environ)
        self.env.update(self.controller.env())
        super().start(script, cwd)

    def kill(self):
        try:
            super().kill()
        finally:
            if self.controller is not None:
                self.controller.close()
                self.controller = None
