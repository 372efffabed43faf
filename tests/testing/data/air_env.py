# Which radio would each instance join?
import os


def instance0():
    print(os.environ.get("BLEBOARD_AIR"), os.environ.get("PYTHONUNBUFFERED"))
    multitest.next()


def instance1():
    print(os.environ.get("BLEBOARD_AIR"), os.environ.get("PYTHONUNBUFFERED"))
