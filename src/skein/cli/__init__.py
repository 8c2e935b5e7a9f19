"""The ``skein`` command line."""
