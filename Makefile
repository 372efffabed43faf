# Everyday commands; the README's two commands are the canonical ones.
PY ?= python3

.PHONY: install demo test bench freeze clean

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

clean:
	rm -rf build .pytest_cache tests/results
