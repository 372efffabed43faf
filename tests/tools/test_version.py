"""bleboard.__version__ is the one version: the package metadata reads it, and what cannot read it says the same."""

import ast
import pathlib
import subprocess
import sys
import tomllib

import bleboard

REPO = pathlib.Path(__file__).resolve().parents[2]


def _manifest_versions(path):
    """The version= of each metadata() call in a MicroPython manifest (Python syntax, but it cannot import)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "metadata":
            for keyword in node.keywords:
                if keyword.arg == "version":
                    assert isinstance(keyword.value, ast.Constant), f"{path}: version= must be a string literal"
                    found.append(keyword.value.value)
    return found


def test_pyproject_takes_the_version_from_the_package():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bleboard.__version__"}


def test_frozen_manifests_state_the_package_version():
    manifests = sorted((REPO / "frozen").glob("**/manifest.py"))
    assert manifests
    stated = {}
    for path in manifests:
        for version in _manifest_versions(path):
            stated[str(path.relative_to(REPO))] = version
    # The top manifest and every per-library one publish metadata; all must agree with the package.
    assert "frozen/manifest.py" in stated
    wrong = {name: v for name, v in stated.items() if v != bleboard.__version__}
    assert not wrong, f"bleboard.__version__ is {bleboard.__version__}; these manifests say otherwise: {wrong}"


def test_cli_prints_the_package_version():
    r = subprocess.run([sys.executable, "-m", "bleboard", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"bleboard {bleboard.__version__}"
