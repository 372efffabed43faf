# Instance 0 ends without NEXT: the runner moves on to instance 1.
def instance0():
    print("zero only")


def instance1():
    print("one")
    multitest.next()
    print("one again")
