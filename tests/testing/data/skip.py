# Instance 0 cannot run the test here; instance 1 must never start.


def instance0():
    print("checking")
    multitest.skip()


def instance1():
    print("instance1 started")
    multitest.next()
