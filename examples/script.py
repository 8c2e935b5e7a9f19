"""Runs in a YARN container: shows where it is and what Skein told it."""

import os
import platform
import socket

print(f"hello from {socket.gethostname()}, Python {platform.python_version()}")
for key in sorted(os.environ):
    if key.startswith("SKEIN_"):
        print(f"{key}={os.environ[key]}")
print("files here:", ", ".join(sorted(os.listdir("."))))
