"""Read MicroPython freeze manifests (the FROZEN_MANIFEST language) to learn which files to bundle.

The same frozen/manifest.py serves MicroPython's firmware build and
`bleboard freeze`, so there is one list of frozen files. Supported:
include(), package(), module(), require(), add_library(), metadata(), options / **kwargs.
Paths with $(MPY_DIR), $(PORT_DIR), $(BOARD_DIR) or $(MPY_LIB_DIR) belong to
the firmware build and are noted, not bundled; so are require()d
micropython-lib packages (install those with `mpremote mip install`).
"""

import os
import re

_VAR = re.compile(r"\$\(([A-Z_]+)\)")


class ManifestError(ValueError):
    """A manifest names a file that is not there, or uses the language wrongly."""


class _Options:
    def __init__(self, values):
        self.__dict__.update(values)

    def __getattr__(self, name):
        return None  # an option nobody set reads as None, as in MicroPython's tool


class Manifest:
    """The files a manifest freezes: (source path, target path inside the board's filesystem)."""

    def __init__(self, path_vars=None, missing_ok=False):
        self.path_vars = dict(path_vars or {})
        self.missing_ok = missing_ok
        self.files = []  # (source, target, opt)
        self.skipped = []  # what belongs to the firmware build or micropython-lib
        self.missing = []  # included manifests that are not there (with missing_ok)
        self.metadata = {}
        self._dirs = []
        self._opts = []
        self._visited = set()  # each manifest is read once, however often it is included
        self._libraries = {}  # add_library() name -> directory searched by require()

    # --- reading ---

    def execute(self, path, **options):
        path = os.path.abspath(path)
        if os.path.isdir(path) or not path.endswith(".py"):
            path = os.path.join(path, "manifest.py")
        if path in self._visited:
            return self
        if not os.path.isfile(path):
            if self.missing_ok:
                self.missing.append(path)
                return
            raise ManifestError(f"manifest {path} does not exist")
        self._visited.add(path)
        with open(path, encoding="utf-8") as f:
            code = compile(f.read(), path, "exec")
        self._dirs.append(os.path.dirname(path))
        self._opts.append(_Options(options))
        try:
            exec(code, self._globals())
        finally:
            self._dirs.pop()
            self._opts.pop()
        return self

    def _globals(self):
        return {
            "include": self.include, "package": self.package, "module": self.module,
            "require": self.require, "add_library": self.add_library, "metadata": self.set_metadata, "options": self._opts[-1],
            "freeze": self._unsupported("freeze"), "freeze_as_str": self._unsupported("freeze_as_str"),
            "freeze_as_mpy": self._unsupported("freeze_as_mpy"), "freeze_mpy": self._unsupported("freeze_mpy"),
        }

    def _resolve(self, path):
        """Expand $(VAR)s and make path relative to the manifest being read; None when it is the firmware's."""
        unknown = [v for v in _VAR.findall(path) if v not in self.path_vars]
        if unknown:
            return None
        path = _VAR.sub(lambda m: self.path_vars[m.group(1)], path)
        return os.path.normpath(os.path.join(self._dirs[-1], path))

    # --- the manifest language ---

    def include(self, manifest_path, **options):
        paths = manifest_path if isinstance(manifest_path, (list, tuple)) else [manifest_path]
        for p in paths:
            full = self._resolve(p)
            if full is None:
                self.skipped.append(f"include({p!r}): part of the firmware build")
                continue
            self.execute(full, **options)

    def package(self, package_path, files=None, base_path=".", opt=None):
        base = self._resolve(base_path)
        if base is None:
            self.skipped.append(f"package({package_path!r}): part of the firmware build")
            return
        root = os.path.join(base, package_path)
        if files is None:
            if not os.path.isdir(root):
                if self.missing_ok:
                    self.missing.append(root)
                    return
                raise ManifestError(f"package {package_path!r}: no directory {root}")
            found = []
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
                for name in sorted(filenames):
                    if name.endswith(".py"):
                        found.append(os.path.relpath(os.path.join(dirpath, name), root))
            files = found
        for name in files:
            self._add(os.path.join(root, name), os.path.join(package_path, name), opt)

    def module(self, module_path, base_path=".", opt=None):
        base = self._resolve(base_path)
        if base is None:
            self.skipped.append(f"module({module_path!r}): part of the firmware build")
            return
        if not module_path.endswith(".py"):
            raise ManifestError(f"module({module_path!r}): the name must end in .py")
        self._add(os.path.join(base, module_path), module_path, opt)

    def add_library(self, library, library_path, prepend=False):
        """Register a directory that require() searches, as MicroPython's tool does."""
        full = self._resolve(library_path)
        if full is None:
            self.skipped.append(f"add_library({library!r}): part of the firmware build")
            return
        self._libraries[library] = full
        if prepend:  # searched first: rebuild the dict with it at the front
            self._libraries = dict([(library, full)] + [kv for kv in self._libraries.items() if kv[0] != library])

    def require(self, name, version=None, unix_ffi=False, pypi=None, library=None, **kwargs):
        if library is not None and library not in self._libraries:
            raise ManifestError(f"require({name!r}): unknown library {library!r} (add_library() it first)")
        roots = [self._libraries[library]] if library is not None else list(self._libraries.values())
        for root in roots:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                if os.path.basename(dirpath) == name and "manifest.py" in filenames:
                    self.execute(os.path.join(dirpath, "manifest.py"), **kwargs)
                    return
        if library is not None:
            raise ManifestError(f"require({name!r}): no {name}/manifest.py in library {library!r}")
        self.skipped.append(f"require({name!r}): from micropython-lib (mpremote mip install {name})")

    def set_metadata(self, description=None, version=None, license=None, author=None):
        for k, v in (("description", description), ("version", version), ("license", license), ("author", author)):
            if v is not None:
                self.metadata.setdefault(k, v)

    def _unsupported(self, name):
        def fail(*args, **kwargs):
            raise ManifestError(f"{name}() is the old manifest API; use package()/module()")
        return fail

    def _add(self, source, target, opt):
        if not os.path.isfile(source):
            if self.missing_ok:
                self.missing.append(source)
                return
            raise ManifestError(f"manifest names {source}, which does not exist")
        target = target.replace(os.sep, "/")
        for src, t, _ in self.files:
            if t == target:
                if src == source:
                    return
                raise ManifestError(f"{target} is frozen twice, from {src} and {source}")
        self.files.append((source, target, opt))


def read(path, path_vars=None, missing_ok=False):
    """Execute the manifest at path and return the Manifest with its file list."""
    m = Manifest(path_vars, missing_ok)
    m.execute(path)
    return m
