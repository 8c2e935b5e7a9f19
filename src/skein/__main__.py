"""``python -m skein``: the ``skein`` command, e.g. from the runtime zip in a container."""

import sys

from skein.cli.main import main

sys.exit(main())
