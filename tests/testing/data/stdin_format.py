# What exactly arrives on stdin: the other instance's broadcast, never our own.
import sys


def instance0():
    multitest.next()
    multitest.broadcast("ping")
    print(repr(sys.stdin.readline()))


def instance1():
    multitest.next()
    multitest.wait("ping")
    multitest.broadcast("pong")
    print("one done")
