"""Only what pyproject.toml cannot say: install bleboard-bleio.pth into site-packages.

The .pth runs `bleboard._bleio_hook` at start-up so `import _bleio` finds bleboard's
`_bleio` even when adafruit-blinka-bleio's is installed (opt out: BLEBOARD_NO_BLEIO_HOOK=1).
data_files are relative to the install prefix, so aim at purelib relative to it.
"""

import os
import sysconfig

from setuptools import setup
from setuptools.dist import Distribution

# setuptools' editable_wheel installs data files only if Distribution.has_data() exists
# (it asks for "has_data", the method is "has_data_files"): supply it so `pip install -e` gets the .pth.
if not hasattr(Distribution, "has_data"):
    Distribution.has_data = Distribution.has_data_files

_SITE = os.path.relpath(sysconfig.get_path("purelib"), sysconfig.get_path("data"))

setup(data_files=[(_SITE, ["src/bleboard-bleio.pth"])])
