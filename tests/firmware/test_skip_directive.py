"""`# multitest-skip:` lines: which instance kinds and positions they keep a multitest from."""

from bleboard.testing.script import skip_reason

SOURCE = """# a multitest
# multitest-skip: micropython@1 -- NimBLE as central has no passkey action
# multitest-skip: micropython-btstack -- no L2CAP on BTstack
def instance0():
    pass
"""


def test_kind_at_position():
    assert skip_reason(SOURCE, ["virtual", "virtual"]) is None
    assert skip_reason(SOURCE, ["micropython", "virtual"]) is None  # instance0 may be firmware
    assert skip_reason(SOURCE, ["virtual", "micropython"]) == (
        "micropython as instance1: NimBLE as central has no passkey action"
    )


def test_micropython_covers_both_stacks_and_a_stack_only_itself():
    assert skip_reason(SOURCE, ["virtual", "micropython-btstack"]).startswith("micropython-btstack as instance1")
    assert skip_reason(SOURCE, ["micropython-btstack", "virtual"]) == (
        "micropython-btstack as instance0: no L2CAP on BTstack"
    )
    nimble_only = "# multitest-skip: micropython-nimble@0 -- only NimBLE\n"
    assert skip_reason(nimble_only, ["micropython-btstack", "virtual"]) is None
    assert skip_reason(nimble_only, ["micropython", "virtual"]) == "micropython as instance0: only NimBLE"


def test_several_kinds_on_one_line_and_no_reason_no_skip():
    line = "# multitest-skip: virtual@0, micropython-btstack -- records NimBLE behaviour\n"
    assert skip_reason(line, ["virtual", "micropython"]).startswith("virtual as instance0")
    assert skip_reason(line, ["micropython", "virtual"]) is None
    assert skip_reason("# multitest-skip: micropython\n", ["micropython"]) is None  # a reason is required
