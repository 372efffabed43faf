"""`bleboard boards [QUERY]`: list, search or describe the board database."""

import sys

from bleboard.tools import boards

HELP = "List or search the supported boards (chip, BLE stack, firmware, flash method)."


def configure(parser):
    parser.add_argument("query", nargs="*", help="board id, or words to search for (e.g. 'nrf52840 uf2')")
    parser.add_argument("--features", metavar="ID",
                        help="print the stack limits and features of a board (or stack family) and where they come from")


def main(args):
    if getattr(args, "features", None):
        return _features(args.features)
    query = " ".join(args.query)
    if query:
        try:
            print(boards.describe(boards.get(query)))
            return 0
        except boards.UnknownBoard as e:
            hits = boards.search(query)
            if not hits:
                print(f"bleboard boards: {e}", file=sys.stderr)
                return 1
    else:
        hits = boards.load()
    print(_table(hits))
    print(f"{len(hits)} board(s)", file=sys.stderr)
    return 0


COLUMNS = (("ID", lambda b: b["id"]), ("CHIP", lambda b: b["chip"]), ("BLE", lambda b: b["ble"]),
           ("FLASH", lambda b: ",".join(b["flash"])), ("NAME", lambda b: b["name"]))


def _table(rows):
    """A header and one line per board, every column as wide as its widest cell."""
    cells = [[title for title, _ in COLUMNS]] + [[value(b) for _, value in COLUMNS] for b in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells)


def _features(text):
    from bleboard.tools import board_profiles

    try:
        print(board_profiles.describe(text))
    except board_profiles.UnknownProfile as e:
        print("bleboard boards: %s" % e, file=sys.stderr)
        return 1
    return 0
