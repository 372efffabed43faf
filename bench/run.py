"""Run every benchmark in this directory, one after the other, and print their ratios.

Each bench_*.py measures our stack and raw Bumble in the same run and prints ratios; none
of them ever fails on timing. Usage: python bench/run.py [NAME ...]  (e.g. bluetooth aioble)
"""

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(names):
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if names:
        scripts = [s for s in scripts if os.path.basename(s)[6:-3] in names]
    status = 0
    for script in scripts:
        print("==", os.path.basename(script), flush=True)
        result = subprocess.run([sys.executable, script], cwd=HERE)
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
