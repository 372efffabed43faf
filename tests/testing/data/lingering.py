# Instance 1 exits but leaves a process holding its stdout: the instance still counts as finished.
import subprocess
import sys


def instance0():
    multitest.next()
    multitest.wait("bye")
    print("zero done")


def instance1():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print("child", child.pid)
    multitest.next()
    multitest.broadcast("bye")
