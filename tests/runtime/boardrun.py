"""Helpers (for tests/runtime) for running `bleboard run` the way a test runner does: as a subprocess."""

import os
import subprocess
import sys

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")


def clean_env(**extra):
    """The inherited environment without our own settings, plus `extra` (None removes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLEBOARD_")}
    for var in ("PYTHONPATH", "PYTHONUNBUFFERED"):
        env.pop(var, None)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def board_cmd(*args):
    return [sys.executable, "-m", "bleboard", "run", *args]


def run_board(*args, input=None, env=None, cwd=None, timeout=30):
    """Run `bleboard run ARGS` to completion; returns the CompletedProcess (text)."""
    return subprocess.run(
        board_cmd(*args),
        input=input,
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        cwd=cwd,
        timeout=timeout,
    )


def script(name):
    return os.path.join(SCRIPTS, name)


def start_board(*args, env=None, deadline=60, **popen_kw):
    """Popen `bleboard run ARGS`, killed after `deadline` s so a hung board fails the test
    (reads from its pipes then hit EOF) instead of hanging the suite."""
    import threading

    proc = subprocess.Popen(board_cmd(*args), env=clean_env() if env is None else env, **popen_kw)
    killer = threading.Timer(deadline, proc.kill)
    killer.daemon = True
    killer.start()
    return proc
