# Instance 0 never reaches NEXT: phase 1 times out and instance 1 never starts.
import time


def instance0():
    print("zero starting")
    time.sleep(600)
    multitest.next()


def instance1():
    print("one started")
