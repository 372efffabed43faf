# A token goes round three instances: 0 -> 1 -> 2 -> 0, twice.
def instance0():
    multitest.next()
    for lap in range(2):
        multitest.broadcast("to1 %d" % lap)
        multitest.wait("to0 %d" % lap)
        print("zero has token", lap)


def instance1():
    multitest.next()
    for lap in range(2):
        multitest.wait("to1 %d" % lap)
        print("one has token", lap)
        multitest.broadcast("to2 %d" % lap)


def instance2():
    multitest.next()
    for lap in range(2):
        multitest.wait("to2 %d" % lap)
        print("two has token", lap)
        multitest.broadcast("to0 %d" % lap)
