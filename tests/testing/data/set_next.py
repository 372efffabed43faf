# Instance 0 passes a value forward; instance 1 prints it.
def instance0():
    multitest.globals(SECRET=(7, b"\x01\x02"), NAME="zero")
    print("zero set up")
    multitest.next()
    print("zero done")


def instance1():
    multitest.next()
    print("one got", SECRET, NAME)
