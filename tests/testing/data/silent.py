# Instance 1 goes quiet after NEXT; instance 0 finishes. It also leaves a grandchild behind.
import os
import subprocess
import sys
import time


def instance0():
    multitest.next()
    print("zero done")


def instance1():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print("pids", os.getpid(), child.pid)
    multitest.next()
    time.sleep(600)
