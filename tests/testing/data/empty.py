def instance0():
    pass


def instance1():
    pass
