"""What mpy-cross cannot see: code that compiles for MicroPython but fails there at run
time. No MicroPython interpreter is available here, so check the sources for the
gaps we know of (MicroPython docs, "differences from CPython"):
  * slices with a step on str/bytes (MicroPython only slices with step 1),
  * str/bytes methods MicroPython lacks (bytes.hex/fromhex before v1.19, removeprefix, ...),
  * async generators (`yield` inside `async def`),
  * CPython-only modules imported outside a `try:` (typing, dataclasses, enum, ...),
  * print(flush=...) and other keyword arguments MicroPython's builtins refuse.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES = (
    sorted((ROOT / "src" / "aioble").glob("*.py"))
    + sorted(ROOT.glob("examples/aioble_*.py"))
    + sorted(ROOT.glob("tests/multi/aioble_*.py"))
)
MISSING_METHODS = {"fromhex", "hex", "removeprefix", "removesuffix", "casefold", "isascii", "format_map",
                   "expandtabs", "zfill", "swapcase", "translate", "maketrans"}
CPYTHON_ONLY = {"typing", "dataclasses", "enum", "abc", "functools", "contextlib", "pathlib", "tempfile",
                "shutil", "threading", "logging", "weakref", "inspect"}


def problems(tree):
    found = []
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            for inner in node.body:
                for sub in ast.walk(inner):
                    guarded.add(id(sub))
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Slice) and node.step is not None:
            found.append((line, "slice with a step"))
        elif isinstance(node, ast.Attribute) and node.attr in MISSING_METHODS:
            found.append((line, "method %s" % node.attr))
        elif isinstance(node, ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Yield, ast.YieldFrom)):
                    found.append((sub.lineno, "async generator %s" % node.name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in guarded:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in CPYTHON_ONLY:
                    found.append((line, "unguarded import of %s" % name))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            if any(k.arg in ("flush", "file") for k in node.keywords):
                found.append((line, "print() keyword"))
    return sorted(found)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_micropython_runtime_subset(path):
    assert problems(ast.parse(path.read_text(), str(path))) == []


def test_the_checks_can_fail():
    bad = """
import typing
s = "aa:bb"[2::3]
b = bytes.fromhex("00")
async def gen():
    yield 1
print("x", flush=True)
try:
    import tempfile
except ImportError:
    pass
"""
    assert [what for _, what in problems(ast.parse(bad))] == [
        "unguarded import of typing",
        "slice with a step",
        "method fromhex",
        "async generator gen",
        "print() keyword",
    ]
