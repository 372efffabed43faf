"""Loads the multitest plugin for this suite: every FILE.py with a FILE.py.exp is a test.

Not a pytest11 entry point on purpose: pytest rewrites every top-level module of a plugin's
distribution, and its rewrite hook would then find adafruit-blinka-bleio's `_bleio` in
site-packages instead of ours. Other projects enable it with `-p bleboard.testing.pytest_plugin`.
"""

pytest_plugins = ["bleboard.testing.pytest_plugin"]
