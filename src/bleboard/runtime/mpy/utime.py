"""`utime`: the old MicroPython name of `time` (same module object)."""

import sys
import time

from bleboard.runtime import compat

compat.install()
sys.modules[__name__] = time
