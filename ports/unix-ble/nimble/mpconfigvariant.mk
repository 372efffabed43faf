# bleboard unix board, NimBLE host over H4 (MICROPYBTUART=/dev/pts/N).
#
# The release snapshot has no libffi, berkeley-db or mbedtls sources, and a
# board needs none of them, so they are off; nothing beyond gcc and make is used.
MICROPY_PY_FFI = 0
MICROPY_PY_BTREE = 0
MICROPY_PY_SSL = 0
MICROPY_SSL_MBEDTLS = 0

MICROPY_PY_BLUETOOTH = 1
MICROPY_BLUETOOTH_NIMBLE = 1

FROZEN_MANIFEST ?= $(VARIANT_DIR)/../manifest.py
