"""Multitests: MicroPython's multi-instance test format, run on virtual boards or interpreters.

multitest.py    the runner (both phases, verdicts, reports)
script.py       the program each instance runs, with the injected `multitest` helper
instance.py     participant kinds (virtual, cpython, exec:CMD)
radio.py        the private `bleboard air` radio of a run
test_cmd.py     `bleboard test`
pytest_plugin.py  collects FILE.py + FILE.py.exp as test items
"""
