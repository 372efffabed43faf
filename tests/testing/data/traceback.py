def instance0():
    multitest.next()
    print("zero fine")


def instance1():
    multitest.next()
    print("one before")
    raise ValueError("instance1 broke")
