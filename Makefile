# Everyday commands; the README's two commands are the canonical ones.
PY ?= python3

.PHONY: install demo test bench freeze firmware clean

install:
	$(PY) -m pip install -e '.[test]'

demo: install
	bleboard demo

test: install
	$(PY) -m pytest

bench: install
	$(PY) bench/run.py

freeze: install
	bleboard freeze --out build/frozen

# MicroPython's unix port with NimBLE and with BTstack, our libraries frozen in
# (source: $MICROPY_DIR, else ../shared/vendor/micropython-*.tar.gz; see docs/firmware.md).
firmware: install
	bleboard firmware build --port unix --stack nimble
	bleboard firmware build --port unix --stack btstack

clean:
	rm -rf build .pytest_cache tests/results
