"""What the master's container was given: environment, token file and staged files.

The client stages the specification and its Hadoop configuration next to the
master's runtime, and YARN adds its own variables and a token file (see
``docs/master.md``). :func:`load_context` reads all of it once, at start, and
fails with a message naming what is missing, so a broken launch shows its
cause in ``application.master.log``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from skein.errors import DecodeError, SkeinConfigurationError
from skein.hadoop.configuration import HadoopConfiguration
from skein.hadoop.credentials import Credentials, Token, read_token_file_from_env
from skein.spec import ApplicationSpec
from skein.yarn.ids import ContainerId
from skein.yarn.tokens import am_rm_token_attempt

__all__ = [
    "AM_RM_TOKEN_KIND",
    "HADOOP_FILE",
    "IDLE_TIMEOUT_ENV",
    "SPEC_FILE",
    "MasterContext",
    "load_context",
]

AM_RM_TOKEN_KIND: Final = "YARN_AM_RM_TOKEN"
"""The kind of the token that authenticates the master to the scheduler."""

SPEC_FILE: Final = ".skein.spec.json"
HADOOP_FILE: Final = ".skein.hadoop.json"
IDLE_TIMEOUT_ENV: Final = "SKEIN_IDLE_TIMEOUT"
_DEFAULT_IDLE_TIMEOUT: Final = 60.0
_RM_MAX_ATTEMPTS: Final = "yarn.resourcemanager.am.max-attempts"
_RM_MAX_ATTEMPTS_DEFAULT: Final = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterContext:
    """Everything the master knows at start.

    Attributes:
        application_id: ``SKEIN_APPLICATION_ID``.
        spec: the staged specification.
        configuration: the client's Hadoop configuration.
        credentials: the container's tokens, AMRMToken included.
        am_rm_token: the AMRMToken.
        attempt: this application attempt's number, from 1.
        max_attempts: the attempts YARN makes: the smaller of the spec's and the
            ResourceManager's ``yarn.resourcemanager.am.max-attempts``.
        staging_dir: the staging directory's URI (``SKEIN_STAGING_DIR``).
        host: the node's host name (``NM_HOST``), registered with the scheduler.
        log_dir: the container's first log directory.
        idle_timeout: seconds to wait for work when nothing was asked to run.
        environ: the master's environment.
    """

    application_id: str
    spec: ApplicationSpec
    configuration: HadoopConfiguration
    credentials: Credentials
    am_rm_token: Token
    attempt: int
    max_attempts: int
    staging_dir: str
    host: str
    log_dir: str
    idle_timeout: float
    environ: Mapping[str, str]

    @property
    def service_credentials(self) -> Credentials:
        """The credentials service containers get: all but the AMRMToken (Skein 0.8)."""
        tokens = {
            alias: token
            for alias, token in self.credentials.tokens.items()
            if token.kind != AM_RM_TOKEN_KIND
        }
        return Credentials(tokens=tokens, secrets=self.credentials.secrets)

    @property
    def has_attempts_left(self) -> bool:
        """Whether YARN would start another attempt if this one failed."""
        return self.attempt < self.max_attempts


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise SkeinConfigurationError(
            f"${name} is not set: the master runs inside a YARN container launched by skein"
        )
    return value


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SkeinConfigurationError(
            f"cannot read {path.name} in {path.parent}: {exc.strerror}"
        ) from exc
    except ValueError as exc:
        raise SkeinConfigurationError(f"{path.name} is not valid JSON: {exc}") from exc


def _configuration(path: Path, environ: Mapping[str, str]) -> HadoopConfiguration:
    data = _read_json(path)
    properties = data.get("properties") if isinstance(data, dict) else None
    if not isinstance(properties, dict):
        raise SkeinConfigurationError(f"{path.name} has no 'properties' mapping")
    return HadoopConfiguration({str(k): str(v) for k, v in properties.items()}, environ=environ)


def _attempt(token: Token, environ: Mapping[str, str]) -> int:
    try:
        return am_rm_token_attempt(token.identifier).attempt_id
    except DecodeError:
        pass
    try:
        return ContainerId.parse(environ.get("CONTAINER_ID", "")).attempt_id.attempt_id
    except ValueError:
        raise SkeinConfigurationError(
            "cannot tell the attempt number: neither the AMRMToken nor $CONTAINER_ID says"
        ) from None


def _idle_timeout(environ: Mapping[str, str]) -> float:
    text = environ.get(IDLE_TIMEOUT_ENV, "").strip()
    if not text:
        return _DEFAULT_IDLE_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise SkeinConfigurationError(
            f"{IDLE_TIMEOUT_ENV}={text!r} is not a number of seconds (0 or more)"
        )
    return value


def load_context(
    environ: Mapping[str, str] | None = None, directory: str | os.PathLike[str] = "."
) -> MasterContext:
    """Read the master's environment, token file and staged files.

    Args:
        environ: the environment (default: ``os.environ``).
        directory: the container's working directory, holding the staged files.

    Raises:
        SkeinConfigurationError: something the launch contract promises is missing.
        SpecError: the staged specification is invalid.
    """
    env = dict(os.environ if environ is None else environ)
    folder = Path(directory)
    spec_data = _read_json(folder / SPEC_FILE)
    spec = ApplicationSpec.from_dict(spec_data)
    configuration = _configuration(folder / HADOOP_FILE, env)
    credentials = read_token_file_from_env(env)
    if credentials is None:
        raise SkeinConfigurationError("$HADOOP_TOKEN_FILE_LOCATION is not set: no AMRMToken")
    token = credentials.find_token(AM_RM_TOKEN_KIND)
    if token is None:
        raise SkeinConfigurationError("the container's token file holds no AMRMToken")
    rm_max = configuration.get_int(_RM_MAX_ATTEMPTS, _RM_MAX_ATTEMPTS_DEFAULT)
    log_dirs = _require(env, "LOG_DIRS")
    return MasterContext(
        application_id=_require(env, "SKEIN_APPLICATION_ID"),
        spec=spec,
        configuration=configuration,
        credentials=credentials,
        am_rm_token=token,
        attempt=_attempt(token, env),
        max_attempts=max(1, min(spec.max_attempts, rm_max)),
        staging_dir=env.get("SKEIN_STAGING_DIR", ""),
        host=_require(env, "NM_HOST"),
        log_dir=log_dirs.split(",")[0],
        idle_timeout=_idle_timeout(env),
        environ=env,
    )
