"""``python -m skein.master``: the application master, inside its YARN container."""

from __future__ import annotations

import sys

from skein.master.app import main

if __name__ == "__main__":
    sys.exit(main())
