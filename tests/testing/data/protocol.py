# Lines the runner acts on are not recorded; noise is dropped; late SET/NEXT are output.
import os
import sys


def instance0():
    print("path has cwd:", "" in sys.path, "cwd:", os.path.basename(os.getcwd()))
    print("USB Path: 1-2.3")
    multitest.next()
    multitest.output_metric("throughput 42")
    multitest.broadcast("go")
    print("trailing spaces   ")
    print("late SET x = 1")
    multitest.next()
    sys.stdout.write("no newline at end")


def instance1():
    multitest.next()
    multitest.wait("go")
    print("one saw go")
    print("libusb: error something")
    print("bytes", "\xe9")
