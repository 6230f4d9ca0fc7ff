"""Serve harness: ``python run.py [--demo] [--reload] [--host H] [--port P]``.

The same as ``harness serve``; kept so that a checkout serves with no install.
"""

import sys

from harness.terminal.serve import main, parse_args

__all__ = ["main", "parse_args"]

if __name__ == "__main__":
    sys.exit(main())
