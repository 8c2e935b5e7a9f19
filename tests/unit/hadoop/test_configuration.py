"""Hadoop XML configuration: files, finals, expansion, typed getters and RM addresses."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from skein.errors import SkeinConfigurationError
from skein.hadoop.addresses import (
    RMService,
    SocketAddress,
    default_fs,
    namenode_http_address,
    parse_socket_address,
    rm_addresses,
    uses_https,
)
from skein.hadoop.configuration import (
    HadoopConfiguration,
    TimeUnit,
    find_configuration_dir,
    load_configuration,
)
from skein.testcluster.artifacts import HadoopJars

SYSTEM = {"user.name": "alice", "user.home": "/home/alice"}


def site(*properties: tuple[str, str] | tuple[str, str, bool]) -> str:
    """The text of a site file with the given (name, value[, final]) properties."""
    body = "".join(
        f"<property><name>{escape(p[0])}</name><value>{escape(p[1])}</value>"
        + ("<final>true</final>" if len(p) == 3 and p[2] else "")
        + "</property>\n"
        for p in properties
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{body}</configuration>\n'


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        stem, suffix = name.rsplit("_", 1)  # core_site_xml -> core-site.xml
        (folder / f"{stem.replace('_', '-')}.{suffix}").write_text(text)
    return folder


def load(folder: Path, environ: Mapping[str, str] | None = None) -> HadoopConfiguration:
    return load_configuration(folder, environ=environ or {}, system_properties=SYSTEM)


def conf_of(
    values: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> HadoopConfiguration:
    return HadoopConfiguration(values, environ=environ or {}, system_properties=SYSTEM)


# --- finding and loading files --------------------------------------------------


def test_defaults_without_any_configuration() -> None:
    conf = load_configuration(environ={}, system_properties=SYSTEM)
    assert conf["fs.defaultFS"] == "file:///"
    assert conf["yarn.resourcemanager.address"] == "0.0.0.0:8032"
    assert conf["hadoop.tmp.dir"] == "/tmp/hadoop-alice"
    assert conf.source("ipc.client.connect.timeout") == "core-default.xml"
    assert conf.get_int("ipc.client.connect.timeout", 0) == 20_000


def test_conf_dir_precedence_follows_the_yarn_command(tmp_path: Path) -> None:
    yarn, hadoop, home = tmp_path / "yarn", tmp_path / "hadoop", tmp_path / "home"
    for folder in (yarn, hadoop, home / "etc" / "hadoop"):
        folder.mkdir(parents=True)
    env = {"YARN_CONF_DIR": str(yarn), "HADOOP_CONF_DIR": str(hadoop), "HADOOP_HOME": str(home)}
    assert find_configuration_dir(env) == yarn
    assert find_configuration_dir({**env, "YARN_CONF_DIR": ""}) == hadoop
    assert find_configuration_dir({"HADOOP_HOME": str(home)}) == home / "etc" / "hadoop"
    assert find_configuration_dir({}) is None


def test_hadoop1_conf_layout(tmp_path: Path) -> None:
    write(tmp_path / "conf", hadoop_env_sh="")
    assert find_configuration_dir({"HADOOP_HOME": str(tmp_path)}) == tmp_path / "conf"


def test_missing_conf_dir_names_its_origin(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SkeinConfigurationError, match=r"nope \(from \$HADOOP_CONF_DIR\)"):
        find_configuration_dir({"HADOOP_CONF_DIR": str(missing)})
    with pytest.raises(SkeinConfigurationError, match="conf_dir argument"):
        load_configuration(missing, environ={})


def test_site_files_load_in_order_over_defaults(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        core_site_xml=site(("fs.defaultFS", "hdfs://nn:8020"), ("shared", "core")),
        yarn_site_xml=site(("yarn.resourcemanager.hostname", "rm"), ("shared", "yarn")),
        hdfs_site_xml=site(("shared", "hdfs")),
    )
    conf = load_configuration(environ={"HADOOP_CONF_DIR": str(folder)}, system_properties=SYSTEM)
    assert default_fs(conf) == "hdfs://nn:8020"
    assert conf["yarn.resourcemanager.scheduler.address"] == "rm:8030"
    assert conf["shared"] == "hdfs"
    assert conf.source("shared") == str(folder / "hdfs-site.xml")


def test_final_properties_survive_later_files(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        core_site_xml=site(("locked", "core", True), ("late", "core")),
        yarn_site_xml=site(("locked", "yarn"), ("late", "yarn", True)),
        hdfs_site_xml=site(("late", "hdfs")),
    )
    conf = load(folder)
    assert conf["locked"] == "core"
    assert conf["late"] == "yarn"
    assert {"locked", "late"} <= conf.final_keys
    # Code may still set final keys, as Java's Configuration.set may.
    assert conf.with_values({"locked": "code"})["locked"] == "code"


def test_attribute_form_empty_values_and_final_spelling(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        core_site_xml=site(("kept", "original"), ("strict", "one")),
        yarn_site_xml="""<configuration>
          <property name="short" value="form" final="true"/>
          <property><name>  spaced.name  </name><value>  spaced value </value></property>
          <property><name>kept</name><value></value></property>
          <property><name>strict</name><value>two</value><final>TRUE</final></property>
          <property><value>no name</value></property>
        </configuration>""",
        hdfs_site_xml=site(("strict", "three"), ("short", "changed")),
    )
    conf = load(folder)
    assert conf["short"] == "form"
    assert conf["spaced.name"] == "  spaced value "
    assert conf.get_trimmed("spaced.name") == "spaced value"
    assert conf["kept"] == "original"  # an empty <value/> sets nothing
    assert conf["strict"] == "three"  # only exactly "true" makes a key final


def test_deprecated_names(tmp_path: Path) -> None:
    folder = write(tmp_path, core_site_xml=site(("fs.default.name", "hdfs://old:9000")))
    conf = load(folder)
    assert conf["fs.defaultFS"] == "hdfs://old:9000"
    assert conf["fs.default.name"] == "hdfs://old:9000"
    assert "fs.default.name" in conf


def test_xinclude_with_and_without_fallback(tmp_path: Path) -> None:
    write(tmp_path / "parts", extra_xml=site(("included", "yes")))
    folder = write(
        tmp_path / "conf",
        core_site_xml="""<configuration xmlns:xi="http://www.w3.org/2001/XInclude">
          <xi:include href="../parts/extra.xml"/>
          <xi:include href="missing.xml">
            <xi:fallback><property><name>fallback</name><value>used</value></property></xi:fallback>
          </xi:include>
        </configuration>""",
    )
    conf = load(folder)
    assert conf["included"] == "yes"
    assert conf["fallback"] == "used"
    write(folder, yarn_site_xml='<configuration><include href="gone.xml"/></configuration>')
    with pytest.raises(SkeinConfigurationError, match=r"yarn-site\.xml: included file gone\.xml"):
        load(folder)


def test_malformed_xml_names_the_file_and_line(tmp_path: Path) -> None:
    folder = write(tmp_path, yarn_site_xml="<configuration>\n<property>\n</configuration>\n")
    with pytest.raises(SkeinConfigurationError) as info:
        load(folder)
    message = str(info.value)
    assert str(folder / "yarn-site.xml") in message
    assert "line 3" in message


# --- variable expansion -----------------------------------------------------------


def test_expansion_from_keys_system_properties_and_environment() -> None:
    conf = conf_of(
        {
            "base": "/data",
            "dir": "${base}/${user.name}",
            "home": "${env.HOME}",
            "unset_or_empty": "${env.EMPTY:-fallback}",
            "unset_only": "${env.EMPTY-fallback}|${env.MISSING-fallback}",
            "unknown": "x${no.such.key}y",
            "env.NOT_IN_ENV": "from a key",
            "env_falls_back_to_key": "${env.NOT_IN_ENV}",
            "user.name": "keys lose to system properties",
            "not.a.ref": "${with space} $ {x} ${}",
        },
        environ={"HOME": "/root", "EMPTY": ""},
    )
    assert conf["dir"] == "/data/alice"
    assert conf["home"] == "/root"
    assert conf["unset_or_empty"] == "fallback"
    assert conf["unset_only"] == "|fallback"
    assert conf["unknown"] == "x${no.such.key}y"
    assert conf["env_falls_back_to_key"] == "from a key"
    assert conf["user.name"] == "keys lose to system properties"
    assert conf.get("dir") == "/data/alice"
    assert conf.raw("dir") == "${base}/${user.name}"
    assert conf["not.a.ref"] == "${with space} $ {x} ${}"


def test_self_reference_returns_the_value_unexpanded() -> None:
    conf = conf_of({"loop": "a-${loop}", "outer": "${base}-${outer}", "base": "b"})
    assert conf["loop"] == "a-${loop}"
    assert conf["outer"] == "${base}-${outer}"


def test_cycles_and_depth_are_bounded_like_hadoop() -> None:
    conf = conf_of({"a": "${b}", "b": "${a}x"})
    with pytest.raises(SkeinConfigurationError, match="a: gave up after 20"):
        conf["a"]
    chain = {f"k{i}": f"${{k{i + 1}}}" for i in range(20)}
    chain["k20"] = "end"
    conf = conf_of(chain)
    assert conf["k1"] == "end"  # 19 substitutions
    with pytest.raises(SkeinConfigurationError):
        conf["k0"]  # 20 substitutions: Hadoop gives up even though the value is complete


# --- typed getters ------------------------------------------------------------------


def test_get_int() -> None:
    conf = conf_of({"dec": " 42 ", "hex": "0x1F", "neg_hex": "-0X10", "bad": "4 2"})
    assert conf.get_int("dec", 0) == 42
    assert conf.get_int("hex", 0) == 31
    assert conf.get_int("neg_hex", 0) == -16
    assert conf.get_int("missing", 7) == 7
    with pytest.raises(SkeinConfigurationError, match="bad = '4 2' is not an integer"):
        conf.get_int("bad", 0)


def test_invalid_values_name_their_file(tmp_path: Path) -> None:
    folder = write(tmp_path, core_site_xml=site(("ipc.client.connect.timeout", "soon")))
    with pytest.raises(SkeinConfigurationError, match=r"core-site\.xml"):
        load(folder).get_int("ipc.client.connect.timeout", 0)


def test_get_bool_falls_back_like_hadoop() -> None:
    conf = conf_of({"t": " TRUE ", "f": "False", "junk": "yes", "empty": ""})
    assert conf.get_bool("t", False) is True
    assert conf.get_bool("f", True) is False
    assert conf.get_bool("junk", True) is True
    assert conf.get_bool("empty", False) is False
    assert conf.get_bool("missing", True) is True


def test_get_list() -> None:
    conf = conf_of({"ids": " rm1 ,rm2,, rm3 ", "blank": " "})
    assert conf.get_list("ids") == ("rm1", "rm2", "rm3")
    assert conf.get_list("blank") == ()
    assert conf.get_list("missing", ["x"]) == ("x",)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("10s", "ms", 10_000),
        ("1m", "s", 60),
        ("2h", "m", 120),
        ("1d", "h", 24),
        ("1500ms", "s", 1),  # truncated like TimeUnit.convert
        ("-1500ms", "s", -1),
        ("10MS", "ms", 10),
        (" 250 ", "ms", 250),  # no suffix: already in the requested unit
        ("5", "s", 5),
        ("3us", "ns", 3_000),
        ("7ns", "us", 0),
    ],
)
def test_get_time_duration(value: str, unit: TimeUnit, expected: int) -> None:
    conf = conf_of({"t": value})
    assert conf.get_time_duration("t", 0, unit=unit) == expected


def test_get_time_duration_defaults_and_errors() -> None:
    conf = conf_of({"bad": "10 s", "worse": "ten"})
    assert conf.get_time_duration("missing", 123) == 123
    assert conf.get_time_duration("missing", "2s", unit="ms") == 2_000
    for key in ("bad", "worse"):
        with pytest.raises(SkeinConfigurationError, match="time duration"):
            conf.get_time_duration(key, 0)


def test_configuration_is_a_read_only_mapping() -> None:
    conf = conf_of({"a": "1", "b": "${a}"})
    assert dict(conf) == {"a": "1", "b": "1"}
    assert len(conf) == 2
    assert "c" not in conf
    with pytest.raises(KeyError):
        conf["c"]
    with pytest.raises(TypeError):
        conf["a"] = "2"  # type: ignore[index]
    assert conf.with_values({"a": "2"})["b"] == "2"
    assert conf["b"] == "1"


def test_environment_is_captured_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKEIN_TEST_VAR", "before")
    conf = HadoopConfiguration({"v": "${env.SKEIN_TEST_VAR}"})
    monkeypatch.setenv("SKEIN_TEST_VAR", "after")
    assert conf["v"] == "before"
    assert conf.with_values({})["v"] == "before"


# --- addresses ---------------------------------------------------------------------


def test_rm_addresses_without_ha() -> None:
    conf = load_configuration(environ={}, system_properties=SYSTEM).with_values(
        {"yarn.resourcemanager.hostname": "master"}
    )
    (client,) = rm_addresses(conf, RMService.CLIENT)
    assert (client.rm_id, client.host, client.port) == (None, "master", 8032)
    assert client.key == "yarn.resourcemanager.address"
    assert [a.port for s in RMService for a in rm_addresses(conf, s)] == [8032, 8030, 8033, 8088]
    https = conf.with_values({"yarn.http.policy": "HTTPS_ONLY"})
    assert uses_https(https)
    assert str(rm_addresses(https, RMService.WEBAPP)[0].address) == "master:8090"


def test_wildcard_host_is_kept() -> None:
    conf = load_configuration(environ={}, system_properties=SYSTEM)
    assert rm_addresses(conf, RMService.SCHEDULER)[0].host == "0.0.0.0"


HA = {
    "yarn.resourcemanager.ha.enabled": "true",
    "yarn.resourcemanager.ha.rm-ids": "rm1, rm2,rm3",
    "yarn.resourcemanager.hostname.rm1": "master1",
    "yarn.resourcemanager.hostname.rm2": "master2",
    "yarn.resourcemanager.address.rm2": "master2.example.com:9032",
    "yarn.resourcemanager.scheduler.address.rm3": "master3:9030",
    "yarn.resourcemanager.webapp.address.rm3": "master3:9088",
    "yarn.resourcemanager.hostname.rm3": "master3",
    # Ignored with HA: only per-id keys count.
    "yarn.resourcemanager.address": "single:1",
}


def test_rm_addresses_with_ha() -> None:
    conf = conf_of(HA)

    def table(service: RMService) -> list[tuple[str | None, str, int]]:
        return [(a.rm_id, a.host, a.port) for a in rm_addresses(conf, service)]

    assert table(RMService.CLIENT) == [
        ("rm1", "master1", 8032),
        ("rm2", "master2.example.com", 9032),
        ("rm3", "master3", 8032),
    ]
    assert table(RMService.SCHEDULER) == [
        ("rm1", "master1", 8030),
        ("rm2", "master2", 8030),
        ("rm3", "master3", 9030),
    ]
    assert table(RMService.WEBAPP)[2] == ("rm3", "master3", 9088)
    https = conf.with_values({"yarn.http.policy": "HTTPS_ONLY"})
    assert [(a.host, a.port) for a in rm_addresses(https, RMService.WEBAPP)] == [
        ("master1", 8090),
        ("master2", 8090),
        ("master3", 8090),
    ]
    assert rm_addresses(conf, RMService.CLIENT)[1].key == "yarn.resourcemanager.address.rm2"


def test_ha_configuration_errors() -> None:
    incomplete = {**HA, "yarn.resourcemanager.ha.rm-ids": "rm1,rm4"}
    with pytest.raises(
        SkeinConfigurationError,
        match=r"yarn\.resourcemanager\.hostname\.rm4 or yarn\.resourcemanager\.address\.rm4",
    ):
        rm_addresses(conf_of(incomplete), RMService.CLIENT)
    with pytest.raises(SkeinConfigurationError, match="lists no ids"):
        rm_addresses(conf_of({"yarn.resourcemanager.ha.enabled": "true"}), RMService.CLIENT)
    bad = {**HA, "yarn.resourcemanager.address.rm2": "master2:port"}
    with pytest.raises(SkeinConfigurationError, match=r"address\.rm2 = 'master2:port'"):
        rm_addresses(conf_of(bad), RMService.CLIENT)


@pytest.mark.parametrize(
    ("text", "default_port", "expected"),
    [
        ("host:1234", None, SocketAddress("host", 1234)),
        (" host ", 80, SocketAddress("host", 80)),
        ("hdfs://nn:8020/some/path", None, SocketAddress("nn", 8020)),
        ("webhdfs://nn", 9870, SocketAddress("nn", 9870)),
        ("[::1]:8032", None, SocketAddress("::1", 8032)),
    ],
)
def test_parse_socket_address(text: str, default_port: int | None, expected: SocketAddress) -> None:
    assert parse_socket_address(text, default_port, "key") == expected


@pytest.mark.parametrize("text", ["host", "host:1/path", ":80", "host:99999", "host:x", ""])
def test_parse_socket_address_errors(text: str) -> None:
    with pytest.raises(SkeinConfigurationError, match="key = "):
        parse_socket_address(text, None, "key")


def test_socket_address_str_brackets_ipv6() -> None:
    assert str(SocketAddress("::1", 8032)) == "[::1]:8032"


def test_namenode_http_address() -> None:
    conf = load_configuration(environ={}, system_properties=SYSTEM)
    assert namenode_http_address(conf) == SocketAddress("0.0.0.0", 9870)
    https = conf.with_values({"dfs.http.policy": "HTTPS_ONLY", "dfs.https.address": "nn:50470"})
    assert namenode_http_address(https) == SocketAddress("nn", 50470)


# --- against Hadoop's own files and code -------------------------------------------


def _hadoop_defaults(jars: HadoopJars) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for jar_name, resource in [
        ("hadoop-common", "core-default.xml"),
        ("hadoop-yarn-common", "yarn-default.xml"),
        ("hadoop-hdfs", "hdfs-default.xml"),
    ]:
        jar = jars.lib_dir / f"{jar_name}-{jars.version}.jar"
        with zipfile.ZipFile(jar) as archive:
            root = ET.fromstring(archive.read(resource))
        for prop in root.iter("property"):
            values[prop.findtext("name", "")] = prop.findtext("value")
    return values


@pytest.mark.java
def test_built_in_defaults_match_hadoop(hadoop_jars: HadoopJars) -> None:
    hadoop = _hadoop_defaults(hadoop_jars)
    ours = load_configuration(environ={}, system_properties=SYSTEM)
    differences = {
        key: (ours.raw(key), hadoop.get(key, "<missing>"))
        for key in ours
        if ours.raw(key) != hadoop.get(key, "<missing>")
    }
    assert differences == {}


@pytest.mark.java
def test_parsing_and_expansion_match_java(
    hadoop_java: Callable[..., list[str]], tmp_path: Path
) -> None:
    chain = [(f"chain{i}", f"${{chain{i + 1}}}") for i in range(20)] + [("chain20", "end")]
    folder = write(
        tmp_path,
        core_site_xml=site(
            ("plain", " value with spaces "),
            ("ref", "${plain}|${user.name}|${env.SKEIN_A}|${env.SKEIN_EMPTY:-d1}"),
            ("env_dash", "${env.SKEIN_EMPTY-d2}|${env.SKEIN_UNSET-d3}"),
            ("self", "x${self}"),
            ("unknown", "${nope}"),
            ("locked", "core", True),
            ("kept", "core"),
            *chain,
        ),
        yarn_site_xml="""<configuration>
          <property name="attr" value="form"/>
          <property><name> trimmed.name </name><value>v</value></property>
          <property><name>locked</name><value>yarn</value></property>
          <property><name>kept</name><value></value></property>
          <property><name>fs.default.name</name><value>hdfs://old</value></property>
        </configuration>""",
    )
    keys = [
        "plain", "ref", "env_dash", "self", "unknown", "locked", "kept", "attr", "trimmed.name",
        "fs.defaultFS", "chain1", "chain0",
    ]  # fmt: skip
    env = {**os.environ, "SKEIN_A": "a", "SKEIN_EMPTY": ""}
    files = [str(folder / "core-site.xml"), str(folder / "yarn-site.xml")]
    java = dict(line.split(" ", 1) for line in hadoop_java("conf", ",".join(keys), *files, env=env))
    ours = load_configuration(folder, environ=env)
    for key in keys:
        try:
            shown = "x" + ours[key].encode().hex()
        except SkeinConfigurationError:
            shown = "!IllegalStateException"
        assert (key, shown) == (key, java[key])
