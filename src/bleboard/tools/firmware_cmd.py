"""`bleboard firmware`: build real MicroPython firmware with bluetooth and our frozen libraries.

`bleboard firmware build --port unix --stack nimble` prints the path of a unix
`micropython` binary whose C `bluetooth` module runs NimBLE (or BTstack) over
the H4 UART named by $MICROPYBTUART. Builds are cached (see
bleboard.tools.firmware_build), so asking again is instant.
"""

import sys

HELP = "build MicroPython firmware with bluetooth and bleboard's frozen aioble/_bleio (cached)"


def configure(parser):
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    b = sub.add_parser("build", help="build (or reuse the cached) firmware and print its path")
    b.add_argument("--port", default="unix", help="MicroPython port (only unix: it runs here, over a pty)")
    b.add_argument("--stack", default="nimble", help="BLE host stack: nimble or btstack (default nimble)")
    b.add_argument(
        "--micropython",
        metavar="DIR|TARBALL",
        default=None,
        help="MicroPython source: a checkout of a tag or a release tarball "
        "(default $MICROPY_DIR, else ../shared/vendor/micropython-*.tar.gz beside the repository)",
    )
    b.add_argument("-j", "--jobs", type=int, default=None, help="parallel make jobs (default: all cores)")
    b.add_argument("--force", action="store_true", help="build again even if the cache has it")
    p = sub.add_parser("path", help="print the cached firmware's path without building (status 1 if absent)")
    p.add_argument("--port", default="unix")
    p.add_argument("--stack", default="nimble")
    p.add_argument("--micropython", metavar="DIR|TARBALL", default=None)


def main(args):
    from bleboard.tools import firmware_build as fb

    try:
        fb.check_args(args.port, args.stack)
        if args.action == "path":
            path = fb.cached(args.stack, args.port, args.micropython)
            if path is None:
                print("bleboard firmware: not built yet (bleboard firmware build --stack %s)" % args.stack,
                      file=sys.stderr)
                return 1
            print(path)
            return 0
        if args.jobs is not None and args.jobs < 1:
            raise ValueError("--jobs must be at least 1, not %d" % args.jobs)
        path = fb.build(args.stack, args.port, args.micropython, args.jobs, args.force,
                        log=lambda line: print("bleboard firmware: " + line, file=sys.stderr, flush=True))
    except (ValueError, fb.FirmwareBuildError) as exc:
        print("bleboard firmware: %s" % exc, file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    info = fb.build_info(path)
    if info.get("seconds") is not None:
        print("bleboard firmware: built in %.1f s" % info["seconds"], file=sys.stderr)
    print(path)
    return 0
