import sys

from bleboard.cli import main

sys.exit(main())
