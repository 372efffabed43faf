"""The virtual board's filesystem: a host directory seen as the board's "/".

mpremote drives a board's filesystem by running code that uses MicroPython's
`os` (ilistdir, stat tuples, statvfs ...) and `open` with board paths such as
"/lib/x.mpy". Code typed at the virtual board gets this `os` and `open`, which
map board paths into the board's directory and never outside it.
"""

import builtins
import os
import posixpath
import types

S_IFDIR = 0x4000
S_IFREG = 0x8000


class BoardFS:
    """Board paths (absolute from the board's root, or relative to its cwd) -> host paths."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.cwd = "/"

    def board_path(self, path):
        if isinstance(path, bytes):
            path = path.decode()
        if not isinstance(path, str):
            raise TypeError("path must be str, not %s" % type(path).__name__)
        joined = posixpath.join(self.cwd, path) if path else self.cwd
        return posixpath.normpath("/" + joined.lstrip("/")).replace("//", "/")  # "/.." stays "/"

    def host(self, path):
        host = os.path.join(self.root, self.board_path(path).lstrip("/"))
        real = os.path.realpath(host)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise OSError(1, "EPERM")  # a symlink pointing out of the board
        return host

    # --- MicroPython's os ---

    def ilistdir(self, path=""):
        host = self.host(path)
        for name in sorted(os.listdir(host)):
            st = os.stat(os.path.join(host, name))
            kind = S_IFDIR if os.path.isdir(os.path.join(host, name)) else S_IFREG
            yield (name, kind, 0, st.st_size if kind == S_IFREG else 0)

    def listdir(self, path=""):
        return [entry[0] for entry in self.ilistdir(path)]

    def stat(self, path):
        st = os.stat(self.host(path))
        mode = S_IFDIR if os.path.isdir(self.host(path)) else S_IFREG
        return (mode, 0, 0, 0, 0, 0, st.st_size, int(st.st_atime), int(st.st_mtime), int(st.st_ctime))

    def statvfs(self, path="/"):
        s = os.statvfs(self.host(path))
        return (s.f_bsize, s.f_frsize, s.f_blocks, s.f_bfree, s.f_bavail, s.f_files, s.f_ffree, s.f_favail,
                s.f_flag, s.f_namemax)

    def mkdir(self, path):
        os.mkdir(self.host(path))

    def rmdir(self, path):
        os.rmdir(self.host(path))

    def remove(self, path):
        if os.path.isdir(self.host(path)):
            raise OSError(21, "EISDIR")
        os.remove(self.host(path))

    def rename(self, old, new):
        os.rename(self.host(old), self.host(new))

    def chdir(self, path):
        target = self.board_path(path)
        if not os.path.isdir(self.host(target)):
            raise OSError(2, "ENOENT")
        self.cwd = target
        os.chdir(self.host(target))

    def getcwd(self):
        return self.cwd

    def open(self, file, mode="r", *args, **kwargs):
        if isinstance(file, int):
            return builtins.open(file, mode, *args, **kwargs)
        return builtins.open(self.host(file), mode, *args, **kwargs)

    def module(self):
        """A module object that looks like MicroPython's `os` for this filesystem."""
        m = types.ModuleType("os", "MicroPython's os over the virtual board's filesystem")
        for name in ("ilistdir", "listdir", "stat", "statvfs", "mkdir", "rmdir", "remove", "rename",
                     "chdir", "getcwd"):
            setattr(m, name, getattr(self, name))
        m.sep = "/"
        m.sync = lambda: None
        m.urandom = os.urandom
        m.uname = _uname
        m.unlink = self.remove
        m.dupterm = lambda stream=None, index=0: None
        return m


    def vfs_module(self):
        """MicroPython's `vfs`: one filesystem, this directory, mounted at "/"."""
        m = types.ModuleType("vfs", "the virtual board's mount table")
        root = _HostDir(self.root)

        def mount(*args, **kwargs):
            if args or kwargs:
                raise OSError(1, "EPERM")  # the virtual board has one fixed filesystem
            return [(root, "/")]

        def umount(path):
            raise OSError(1, "EPERM")

        m.mount, m.umount, m.VfsPosix = mount, umount, _HostDir
        return m


class _HostDir:
    def __init__(self, path):
        self.path = path

    def __repr__(self):
        return "<VfsPosix>"


def _uname():
    return ("bleboard", "bleboard", "1.29.0", "bleboard-virtual", "bleboard-virtual with Bumble")
