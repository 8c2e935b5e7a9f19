"""The Hadoop user of this process, as Hadoop's client libraries determine it."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

from skein.hadoop.framing import UserInfo

__all__ = ["current_user"]


def current_user(
    proxy_user: str | None = None, environ: Mapping[str, str] | None = None
) -> UserInfo:
    """The user connections act as: ``HADOOP_USER_NAME`` if set, else the OS user.

    Args:
        proxy_user: act for this user instead, impersonated by the current one
            (the server checks its ``hadoop.proxyuser.*`` rules).
    """
    env = os.environ if environ is None else environ
    me = env.get("HADOOP_USER_NAME") or getpass.getuser()
    if proxy_user and proxy_user != me:
        return UserInfo(effective_user=proxy_user, real_user=me)
    return UserInfo(effective_user=me)
