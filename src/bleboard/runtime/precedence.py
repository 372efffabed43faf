"""Make the virtual board's own modules win over look-alikes installed on the host.

Inside `bleboard run` the names `bluetooth`, `micropython`, `machine`,
`aioble` and `_bleio` must be ours, although site-packages may hold others
(Adafruit-Blinka ships a `micropython` package, adafruit-blinka-bleio a
`_bleio`, PyBluez a `bluetooth`) and our src directory comes last on sys.path
in an editable install.  The user's own directories still come first, as they
would on a board's filesystem.

Two mechanisms, so that neither sys.path edits by the program nor .pth files
undo it:
  * sys.path becomes  [path0] + PYTHONPATH dirs + [mpy dir] + the rest;
  * a meta-path finder, first on sys.meta_path, answers for those five names:
    from the sys.path entries before our mpy dir (path0, PYTHONPATH, anything
    the program itself inserted in front) if the module is there, else ours.
Modules of those names imported before we started (e.g. by a .pth file) are
purged from sys.modules when they are not ours.
"""

import importlib.abc
import importlib.machinery
import os
import sys

import bleboard

MPY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpy")
SRC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(bleboard.__file__)))

# board module name -> the directory our copy lives in
OWN = {
    "micropython": MPY_DIR,
    "machine": MPY_DIR,
    "bluetooth": SRC_DIR,
    "aioble": SRC_DIR,
    "_bleio": SRC_DIR,
}


def pythonpath_dirs(environ=None):
    """PYTHONPATH entries, absolute, as CPython puts them on sys.path."""
    value = (os.environ if environ is None else environ).get("PYTHONPATH", "")
    return [os.path.abspath(p) for p in value.split(os.pathsep) if p]


class BoardFinder(importlib.abc.MetaPathFinder):
    """Finds the board modules: the user's directories first, then ours."""

    def __init__(self, user_dirs):
        self.user_dirs = list(user_dirs)

    def _dirs_before_ours(self):
        try:
            return sys.path[: sys.path.index(MPY_DIR)]
        except ValueError:  # the program took our dir off sys.path
            return self.user_dirs

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or fullname not in OWN:
            return None  # submodules are found through their package's __path__
        spec = importlib.machinery.PathFinder.find_spec(fullname, self._dirs_before_ours())
        if spec is None:
            spec = importlib.machinery.PathFinder.find_spec(fullname, [OWN[fullname]])
        return spec

    def __repr__(self):
        return "<BoardFinder user_dirs=%r>" % (self.user_dirs,)


def install(path0):
    """Arrange sys.path and sys.meta_path for a board program whose sys.path[0] is `path0`.

    The launcher's own sys.path[0] (bleboard's cwd or bin dir) is replaced by `path0`.
    """
    user = pythonpath_dirs()
    rest = [p for p in sys.path[1:] if p not in user and p != MPY_DIR]
    sys.path[:] = [path0] + user + [MPY_DIR] + rest
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, BoardFinder)]
    finder = BoardFinder([path0] + user)
    sys.meta_path.insert(0, finder)
    purge(finder)
    return finder


def purge(finder):
    """Forget already-imported modules with our names that are not the ones we would pick."""
    for name in OWN:
        module = sys.modules.get(name)
        if module is None:
            continue
        spec = finder.find_spec(name)
        if spec is not None and getattr(module, "__file__", None) == spec.origin:
            continue
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
