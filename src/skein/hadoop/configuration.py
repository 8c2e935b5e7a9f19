"""Hadoop's XML configuration: ``core-site.xml``, ``hdfs-site.xml``, ``yarn-site.xml``.

:func:`load_configuration` finds the configuration folder the way the ``yarn``
command does and returns a frozen :class:`HadoopConfiguration`, a mapping with
Hadoop's semantics:

* **Layers.** Each site file sits on top of Hadoop's built-in defaults for that
  file, in the order Java's ``YarnConfiguration`` loads them: core-default,
  core-site, yarn-default, yarn-site, hdfs-default, hdfs-site. Only the defaults
  of keys skein reads are built in (see ``_DEFAULTS``); values were checked
  against the ``*-default.xml`` files shipped in Hadoop 3.4.2 and 3.5.0.
* **Final properties.** Once a file marks a key ``<final>true</final>``, later
  files cannot change it (Hadoop logs and ignores such attempts).
* **Variable expansion.** ``${name}`` in a value is replaced, left-most first,
  by ``${env.VAR}`` (with ``${env.VAR:-default}`` for unset-or-empty and
  ``${env.VAR-default}`` for unset), else a Java system property such as
  ``${user.name}``, else another key. An unknown name stays as written; a value
  that refers to itself is returned unexpanded. Like Hadoop, expansion gives
  up with an error once it has made 20 substitutions, even if the twentieth
  completed the value; that also ends reference cycles.
* **Parsing** of each file follows Hadoop's parser; see
  :mod:`skein.hadoop.configuration_xml`.

Reading the ResourceManager and NameNode addresses out of a configuration lives
in :mod:`skein.hadoop.addresses`.
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final, Literal, final, overload

from skein.errors import SkeinConfigurationError
from skein.hadoop.configuration_xml import DEPRECATED_KEYS, ConfigProperty, parse_configuration_file

__all__ = [
    "SITE_FILES",
    "HadoopConfiguration",
    "TimeUnit",
    "find_configuration_dir",
    "load_configuration",
]

# Loaded in this order; later files override earlier ones unless a key is final.
SITE_FILES: Final = ("core-site.xml", "yarn-site.xml", "hdfs-site.xml")

_DEFAULTS: Final[Mapping[str, Mapping[str, str]]] = {
    "core-site.xml": {
        "fs.defaultFS": "file:///",
        "hadoop.tmp.dir": "/tmp/hadoop-${user.name}",
        "hadoop.security.authentication": "simple",
        "hadoop.security.authorization": "false",
        "hadoop.rpc.protection": "authentication",
        "hadoop.security.token.service.use_ip": "true",
        "ipc.client.connect.timeout": "20000",
        "ipc.client.connect.max.retries": "10",
        "ipc.client.connect.max.retries.on.timeouts": "45",
        "ipc.client.connect.retry.interval": "1000",
        "ipc.client.connection.maxidletime": "10000",
        "ipc.client.fallback-to-simple-auth-allowed": "false",
        "ipc.client.ping": "true",
        "ipc.client.rpc-timeout.ms": "120000",
        "ipc.client.tcpnodelay": "true",
        "ipc.maximum.response.length": "134217728",
        "ipc.ping.interval": "60000",
    },
    "yarn-site.xml": {
        "yarn.resourcemanager.hostname": "0.0.0.0",
        "yarn.resourcemanager.address": "${yarn.resourcemanager.hostname}:8032",
        "yarn.resourcemanager.scheduler.address": "${yarn.resourcemanager.hostname}:8030",
        "yarn.resourcemanager.resource-tracker.address": "${yarn.resourcemanager.hostname}:8031",
        "yarn.resourcemanager.admin.address": "${yarn.resourcemanager.hostname}:8033",
        "yarn.resourcemanager.webapp.address": "${yarn.resourcemanager.hostname}:8088",
        "yarn.resourcemanager.webapp.https.address": "${yarn.resourcemanager.hostname}:8090",
        "yarn.http.policy": "HTTP_ONLY",
        "yarn.resourcemanager.ha.enabled": "false",
        "yarn.resourcemanager.am.max-attempts": "2",
        "yarn.resourcemanager.connect.max-wait.ms": "900000",
        "yarn.resourcemanager.connect.retry-interval.ms": "30000",
        "yarn.client.failover-proxy-provider": (
            "org.apache.hadoop.yarn.client.ConfiguredRMFailoverProxyProvider"
        ),
        "yarn.client.failover-retries": "0",
        "yarn.client.failover-retries-on-socket-timeouts": "0",
    },
    "hdfs-site.xml": {
        "dfs.namenode.http-address": "0.0.0.0:9870",
        "dfs.namenode.https-address": "0.0.0.0:9871",
        "dfs.http.policy": "HTTP_ONLY",
    },
}

_MAX_SUBSTITUTIONS: Final = 20
# Hadoop's definition of a reference: "${", then no '}', '$' or space, then "}".
_VARIABLE: Final = re.compile(r"\$\{([^}$ ]+)\}")
# Java's Integer.parseInt after Hadoop strips an optional "0x" (hexadecimal).
_INTEGER: Final = re.compile(r"([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))")
_DURATION_AMOUNT: Final = re.compile(r"[+-]?[0-9]+")

TimeUnit = Literal["ns", "us", "ms", "s", "m", "h", "d"]
# Nanoseconds per unit; the suffixes are tried in this order, as Hadoop does
# (so "10ms" is milliseconds, not "10m" followed by an "s").
_NANOS: Final[Mapping[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3_600 * 1_000_000_000,
    "d": 86_400 * 1_000_000_000,
}


def _java_system_properties() -> dict[str, str]:
    """The Java system properties a client JVM would have, for ``${...}`` expansion."""
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry, e.g. in some containers
        user = os.environ.get("USER", "")
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was deleted
        cwd = ""
    return {
        "user.name": user,
        "user.home": os.path.expanduser("~"),
        "user.dir": cwd,
        "java.io.tmpdir": "/tmp",
        "file.separator": "/",
        "path.separator": ":",
        "line.separator": "\n",
    }


@final
class HadoopConfiguration(Mapping[str, str]):
    """A frozen Hadoop configuration: keys to values, with Hadoop's expansion rules.

    Indexing and :meth:`get` return values with ``${...}`` references expanded;
    :meth:`raw` returns them as written. Iteration covers every key, including
    built-in defaults.

    Args:
        properties: raw values by key.
        final_keys: keys marked final (kept for inspection and for :meth:`with_values`).
        sources: for each key, the file (or default resource) that set it.
        environ: the environment used by ``${env.VAR}`` (default: a copy of ``os.environ``).
        system_properties: values for ``${user.name}`` and other Java system
            properties (default: those of the current process).

    Example:
        >>> conf = HadoopConfiguration({"a": "x", "b": "${a}/y"})
        >>> conf["b"], conf.raw("b")
        ('x/y', '${a}/y')
    """

    __slots__ = ("_environ", "_finals", "_raw", "_sources", "_system")

    def __init__(
        self,
        properties: Mapping[str, str] | None = None,
        *,
        final_keys: Iterable[str] = (),
        sources: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        system_properties: Mapping[str, str] | None = None,
    ) -> None:
        self._raw: Mapping[str, str] = dict(properties or {})
        self._finals = frozenset(final_keys)
        self._sources: Mapping[str, str] = dict(sources or {})
        self._environ: Mapping[str, str] = dict(os.environ if environ is None else environ)
        self._system: Mapping[str, str] = dict(
            _java_system_properties() if system_properties is None else system_properties
        )

    # --- Mapping -------------------------------------------------------------

    def __getitem__(self, key: str) -> str:
        name = DEPRECATED_KEYS.get(key, key)
        return self._expand(self._raw[name], name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and DEPRECATED_KEYS.get(key, key) in self._raw

    def __repr__(self) -> str:
        return f"<HadoopConfiguration with {len(self._raw)} keys>"

    # --- inspection ----------------------------------------------------------

    def raw(self, key: str) -> str | None:
        """Return the value of ``key`` as written, without expansion, or None."""
        return self._raw.get(DEPRECATED_KEYS.get(key, key))

    def source(self, key: str) -> str | None:
        """Return the file (or ``*-default.xml`` resource) that set ``key``, or None."""
        return self._sources.get(DEPRECATED_KEYS.get(key, key))

    @property
    def final_keys(self) -> frozenset[str]:
        """Keys that a configuration file marked final."""
        return self._finals

    def with_values(self, values: Mapping[str, str]) -> HadoopConfiguration:
        """Return a copy with ``values`` set, like Java's ``Configuration.set``.

        As in Java, values set in code override final keys: finality only
        governs later *files*.

        Example:
            >>> HadoopConfiguration().with_values({"k": "v"})["k"]
            'v'
        """
        merged = dict(self._raw)
        sources = dict(self._sources)
        for key, value in values.items():
            name = DEPRECATED_KEYS.get(key, key)
            merged[name] = value
            sources[name] = "programmatically"
        return HadoopConfiguration(
            merged,
            final_keys=self._finals,
            sources=sources,
            environ=self._environ,
            system_properties=self._system,
        )

    # --- typed getters -------------------------------------------------------

    @overload
    def get_trimmed(self, key: str) -> str | None: ...
    @overload
    def get_trimmed(self, key: str, default: str) -> str: ...
    def get_trimmed(self, key: str, default: str | None = None) -> str | None:
        """Return the expanded value with surrounding whitespace removed, or ``default``."""
        value = self.get(key)
        return default if value is None else value.strip()

    def get_int(self, key: str, default: int) -> int:
        """Return an integer value; like Hadoop, ``0x``-prefixed values are hexadecimal.

        Raises:
            SkeinConfigurationError: the value is not an integer.

        Example:
            >>> HadoopConfiguration({"n": " 0x10 "}).get_int("n", 0)
            16
        """
        text = self.get_trimmed(key)
        if text is None:
            return default
        match = _INTEGER.fullmatch(text)
        if match is None:
            raise self._invalid(key, text, "an integer")
        sign, hex_digits, decimal_digits = match.groups()
        value = int(hex_digits, 16) if hex_digits else int(decimal_digits)
        return -value if sign == "-" else value

    def get_bool(self, key: str, default: bool) -> bool:
        """Return a boolean: ``true``/``false`` in any case; anything else gives ``default``.

        Hadoop silently falls back to the default for unrecognised values, and so
        does this method, so that skein and Java clients agree on a configuration.
        """
        text = (self.get_trimmed(key) or "").lower()
        if text == "true":
            return True
        if text == "false":
            return False
        return default

    def get_list(self, key: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        """Return a comma-separated value as trimmed, non-empty items.

        Example:
            >>> HadoopConfiguration({"ids": " rm1, rm2 ,,"}).get_list("ids")
            ('rm1', 'rm2')
        """
        value = self.get(key)
        if value is None:
            return tuple(default)
        return tuple(item.strip() for item in value.split(",") if item.strip())

    def get_time_duration(self, key: str, default: int | str, unit: TimeUnit = "ms") -> int:
        """Return a duration in ``unit``, accepting Hadoop's suffixes.

        Values may end in ``ns``, ``us``, ``ms``, ``s``, ``m``, ``h`` or ``d`` (any
        case); a bare number is taken to be in ``unit``. Conversion truncates
        toward zero, as Java's ``TimeUnit.convert`` does.

        Args:
            key: the property name.
            default: used when the key is unset: a number already in ``unit``, or
                a string parsed like a value (e.g. ``"30s"``).
            unit: the unit of the result.

        Raises:
            SkeinConfigurationError: the value is not a number with a known suffix.

        Example:
            >>> HadoopConfiguration({"t": "1m"}).get_time_duration("t", 0, unit="s")
            60
        """
        value = self.get(key)
        if value is None:
            if isinstance(default, int):
                return default
            value = default
        text = value.strip().lower()
        source_unit: str = unit
        for suffix in _NANOS:
            if text.endswith(suffix):
                source_unit, text = suffix, text[: -len(suffix)]
                break
        if _DURATION_AMOUNT.fullmatch(text) is None:
            raise self._invalid(key, value, "a time duration such as 10s or 5m")
        nanos = int(text) * _NANOS[source_unit]
        whole, _ = divmod(abs(nanos), _NANOS[unit])
        return whole if nanos >= 0 else -whole

    # --- expansion -----------------------------------------------------------

    def _lookup(self, name: str) -> str | None:
        if name.startswith("env.") and len(name) > len("env."):
            value = self._lookup_env(name[len("env.") :])
            if value is not None:
                return value
        else:
            value = self._system.get(name)
            if value is not None:
                return value
        return self._raw.get(name)

    def _lookup_env(self, spec: str) -> str | None:
        # ${env.VAR:-fallback} if unset or empty, ${env.VAR-fallback} if unset;
        # whichever operator comes first in the name wins.
        for i, char in enumerate(spec):
            if char == ":" and spec[i + 1 : i + 2] == "-":
                value = self._environ.get(spec[:i])
                return value if value else spec[i + 2 :]
            if char == "-":
                value = self._environ.get(spec[:i])
                return spec[i + 1 :] if value is None else value
        return self._environ.get(spec)

    def _expand(self, expression: str, key: str) -> str:
        current = expression
        for _ in range(_MAX_SUBSTITUTIONS):
            match = _VARIABLE.search(current)
            if match is None:
                return current
            value = self._lookup(match.group(1))
            if value is None:
                return current  # an unknown reference stays as written
            if match.group(0) in value:
                return expression  # a self-reference: Hadoop gives up and returns the original
            current = current[: match.start()] + value + current[match.end() :]
        # Like Hadoop, give up after the last allowed substitution without
        # checking whether it happened to finish the job.
        raise SkeinConfigurationError(
            f"{key}: gave up after {_MAX_SUBSTITUTIONS} variable substitutions in {expression!r}"
            f"{self._from(key)} (is there a reference cycle?)"
        )

    def _from(self, key: str) -> str:
        source = self._sources.get(key)
        return f" (set in {source})" if source else ""

    def _invalid(self, key: str, value: str, expected: str) -> SkeinConfigurationError:
        return SkeinConfigurationError(f"{key} = {value!r}{self._from(key)} is not {expected}")


def find_configuration_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the Hadoop configuration folder, as the ``yarn`` command chooses it.

    The first non-empty of these wins:

    1. ``$YARN_CONF_DIR`` (the ``yarn`` launcher lets it replace ``$HADOOP_CONF_DIR``);
    2. ``$HADOOP_CONF_DIR``;
    3. ``$HADOOP_HOME/etc/hadoop`` (or ``$HADOOP_HOME/conf`` for Hadoop 1 layouts
       that have a ``conf/hadoop-env.sh``).

    Args:
        environ: the environment to read (default: ``os.environ``).

    Returns:
        The folder, or None when none of the variables is set.

    Raises:
        SkeinConfigurationError: the chosen folder does not exist; the message
            names the variable it came from.
    """
    env = os.environ if environ is None else environ
    for variable in ("YARN_CONF_DIR", "HADOOP_CONF_DIR"):
        if value := env.get(variable):
            return _existing_dir(Path(value), f"${variable}")
    if home := env.get("HADOOP_HOME"):
        legacy = Path(home) / "conf"
        folder = legacy if (legacy / "hadoop-env.sh").exists() else Path(home) / "etc" / "hadoop"
        return _existing_dir(folder, "$HADOOP_HOME")
    return None


def _existing_dir(path: Path, origin: str) -> Path:
    if not path.is_dir():
        raise SkeinConfigurationError(
            f"Hadoop configuration directory {path} (from {origin}) does not exist"
        )
    return path


def load_configuration(
    conf_dir: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    system_properties: Mapping[str, str] | None = None,
) -> HadoopConfiguration:
    """Load Hadoop's site files over the built-in defaults.

    Args:
        conf_dir: the folder holding the ``*-site.xml`` files; by default
            :func:`find_configuration_dir`. With no folder at all, the result
            holds only the defaults, as a Java client with no configuration would.
        environ: the environment for finding the folder and for ``${env.VAR}``
            (default: ``os.environ``).
        system_properties: values for ``${user.name}`` and friends (default:
            those of the current process).

    Returns:
        The configuration. Missing site files are skipped, as in Hadoop.

    Raises:
        SkeinConfigurationError: the folder does not exist, or a file is not
            well-formed XML (the message names the file and line).

    Example:
        >>> conf = load_configuration()  # doctest: +SKIP
        >>> conf["fs.defaultFS"]  # doctest: +SKIP
        'hdfs://namenode:8020'
    """
    env = os.environ if environ is None else environ
    if conf_dir is None:
        folder = find_configuration_dir(env)
    else:
        folder = _existing_dir(Path(conf_dir), "the conf_dir argument")
    properties: dict[str, str] = {}
    sources: dict[str, str] = {}
    finals: set[str] = set()
    for site in SITE_FILES:
        layers: list[tuple[str, list[ConfigProperty]]] = [
            (
                site.replace("-site", "-default"),
                [ConfigProperty(k, v, False) for k, v in _DEFAULTS[site].items()],
            )
        ]
        if folder is not None and (folder / site).is_file():
            layers.append((str(folder / site), parse_configuration_file(folder / site)))
        for source, found in layers:
            for prop in found:
                if prop.value is not None and prop.name not in finals:
                    properties[prop.name] = prop.value
                    sources[prop.name] = source
                if prop.final:
                    finals.add(prop.name)
    return HadoopConfiguration(
        properties,
        final_keys=finals,
        sources=sources,
        environ=env,
        system_properties=system_properties,
    )
