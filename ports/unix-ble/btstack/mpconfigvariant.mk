# bleboard unix board, BTstack host over H4 (MICROPYBTUART=/dev/pts/N).
#
# The release snapshot has no libffi, berkeley-db or mbedtls sources, and a
# board needs none of them, so they are off; nothing beyond gcc and make is used.
# H4 is chosen explicitly so a machine with libusb still talks to the pty.
MICROPY_PY_FFI = 0
MICROPY_PY_BTREE = 0
MICROPY_PY_SSL = 0
MICROPY_SSL_MBEDTLS = 0

MICROPY_PY_BLUETOOTH = 1
MICROPY_BLUETOOTH_BTSTACK = 1
MICROPY_BLUETOOTH_BTSTACK_H4 = 1
MICROPY_BLUETOOTH_BTSTACK_USB = 0

FROZEN_MANIFEST ?= $(VARIANT_DIR)/../manifest.py
