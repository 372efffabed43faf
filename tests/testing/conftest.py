"""Tests of the multitest runner. data/ holds fixture multitests, some failing on
purpose, so it must not be collected as real multitests by the bleboard plugin."""

import pathlib
import sys

import pytest

collect_ignore = ["data"]
pytest_plugins = ["pytester"]

DATA = pathlib.Path(__file__).parent / "data"


@pytest.fixture
def data():
    return DATA


@pytest.fixture
def wrapper(tmp_path):
    """An exec: command that runs Python as a grandchild (the shell stays the instance)."""
    path = tmp_path / "py-wrapper.sh"
    path.write_text('#!/bin/sh\n"%s" "$@"\n' % sys.executable)
    path.chmod(0o755)
    return str(path)
