# Which environment did each instance get?
import os


def instance0():
    print("TAG", os.environ.get("TAG"), "PATH" in os.environ, "HOME" in os.environ)
    multitest.next()


def instance1():
    print("TAG", os.environ.get("TAG"), "PATH" in os.environ, "HOME" in os.environ)
