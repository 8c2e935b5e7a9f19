"""Skein: deploy Python applications on Apache Hadoop YARN.

Layout: ``hadoop`` speaks Hadoop IPC (framing, SASL, configuration, credentials)
and knows nothing of YARN; ``yarn`` holds YARN's records and protocols over it;
``client`` is the user-facing API; ``cli`` the ``skein`` command; ``testcluster``
starts a real local HDFS + YARN for tests and demos. ``_proto`` is generated.
"""

from __future__ import annotations

from skein.errors import SkeinError

__all__ = ["SkeinError", "__version__"]

__version__ = "0.9.0.dev0"
