"""Choosing a filesystem by scheme, and locating WebHDFS from a Hadoop configuration."""

from __future__ import annotations

import pytest

from skein.errors import SkeinConfigurationError
from skein.fs import SUPPORTED_SCHEMES, LocalFileSystem, WebHdfsFileSystem, filesystem_for
from skein.hadoop.configuration import HadoopConfiguration

ENV = {"HADOOP_USER_NAME": "carol"}


def configuration(**values: str) -> HadoopConfiguration:
    return HadoopConfiguration(
        {"fs.defaultFS": "hdfs://nn.example.com:8020", **values}, environ=ENV
    )


def webhdfs(fs: object) -> WebHdfsFileSystem:
    assert isinstance(fs, WebHdfsFileSystem)
    return fs


@pytest.fixture(autouse=True)
def hadoop_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HADOOP_USER_NAME", "carol")


def test_default_fs_hdfs_uses_the_namenode_http_address() -> None:
    conf = configuration(**{"dfs.namenode.http-address": "nn-web.example.com:50070"})
    fs = webhdfs(filesystem_for(conf))
    assert fs.uri == "hdfs://nn.example.com:8020"
    assert fs.qualify("/user/carol/x") == "hdfs://nn.example.com:8020/user/carol/x"
    assert fs._url("/a b", "GETFILESTATUS", {}) == (
        "http://nn-web.example.com:50070/webhdfs/v1/a%20b?op=GETFILESTATUS&user.name=carol"
    )


def test_wildcard_http_address_takes_the_filesystem_host() -> None:
    fs = webhdfs(filesystem_for(configuration()))  # default 0.0.0.0:9870
    assert fs._url("/", "LISTSTATUS", {}).startswith("http://nn.example.com:9870/webhdfs/v1/?")


def test_another_namenode_keeps_the_configured_web_port() -> None:
    conf = configuration(**{"dfs.namenode.http-address": "nn.example.com:50070"})
    fs = webhdfs(filesystem_for("hdfs://other.example.com:8020/data", configuration=conf))
    assert fs.uri == "hdfs://other.example.com:8020"
    assert fs._url("/", "X", {}).startswith("http://other.example.com:50070/")


def test_https_only_policy() -> None:
    conf = configuration(
        **{
            "dfs.http.policy": "HTTPS_ONLY",
            "dfs.namenode.https-address": "nn.example.com:9871",
        }
    )
    assert (
        webhdfs(filesystem_for(conf))._url("/", "X", {}).startswith("https://nn.example.com:9871/")
    )


@pytest.mark.parametrize(
    ("uri", "base"),
    [
        ("webhdfs://web.example.com:14000", "http://web.example.com:14000/"),
        ("webhdfs://web.example.com", "http://web.example.com:9870/"),
        ("swebhdfs://web.example.com", "https://web.example.com:9871/"),
    ],
)
def test_webhdfs_uris_name_the_web_address(uri: str, base: str) -> None:
    fs = webhdfs(filesystem_for(uri, configuration=configuration()))
    assert fs.uri == uri
    assert fs._url("/", "X", {}).startswith(base)


def test_hdfs_without_authority_is_the_default_namenode() -> None:
    fs = webhdfs(filesystem_for("hdfs:///user/x", configuration=configuration()))
    assert fs.uri == "hdfs://nn.example.com:8020"


def test_proxy_user_goes_in_doas() -> None:
    fs = webhdfs(filesystem_for(configuration(), proxy_user="alice"))
    assert fs.user.effective_user == "alice"
    assert fs.user.real_user == "carol"
    assert fs._url("/", "MKDIRS", {"permission": "700"}).endswith(
        "?op=MKDIRS&user.name=carol&doas=alice&permission=700"
    )


def test_timeouts_come_from_the_configuration() -> None:
    conf = configuration(
        **{
            "dfs.webhdfs.socket.connect-timeout": "5s",
            "dfs.webhdfs.socket.read-timeout": "90000",
        }
    )
    fs = webhdfs(filesystem_for(conf))
    assert (fs._connect_timeout, fs._timeout) == (5.0, 90.0)
    default = webhdfs(filesystem_for(configuration()))
    assert (default._connect_timeout, default._timeout) == (60.0, 60.0)


def test_ha_nameservice_is_refused_clearly() -> None:
    conf = configuration(**{"fs.defaultFS": "hdfs://mycluster", "dfs.nameservices": "mycluster"})
    with pytest.raises(SkeinConfigurationError, match="NameNode HA is not supported"):
        filesystem_for(conf)


@pytest.mark.parametrize("uri", ["file:///", "file:///tmp/x", "/tmp/x", "file:/tmp"])
def test_local_uris(uri: str) -> None:
    assert isinstance(filesystem_for(uri), LocalFileSystem)


def test_local_default_fs() -> None:
    conf = HadoopConfiguration({"fs.defaultFS": "file:///"}, environ=ENV)
    assert isinstance(filesystem_for(conf), LocalFileSystem)
    assert isinstance(filesystem_for(HadoopConfiguration({}, environ=ENV)), LocalFileSystem)


@pytest.mark.parametrize(
    "uri",
    ["s3a://bucket/key", "abfs://fs@account.dfs.core.windows.net/", "viewfs://cluster/", "gs://b"],
)
def test_unknown_schemes_name_the_scheme_and_the_supported_ones(uri: str) -> None:
    scheme = uri.split(":", 1)[0]
    with pytest.raises(SkeinConfigurationError) as caught:
        filesystem_for(uri, configuration=configuration())
    message = str(caught.value)
    assert f"scheme {scheme!r}" in message
    assert "supported schemes: file, hdfs, webhdfs, swebhdfs" in message
    assert set(SUPPORTED_SCHEMES) == {"file", "hdfs", "webhdfs", "swebhdfs"}


def test_unknown_default_fs_says_where_it_came_from() -> None:
    with pytest.raises(SkeinConfigurationError, match=r"'s3a' \(s3a://data\) in fs.defaultFS"):
        filesystem_for(configuration(**{"fs.defaultFS": "s3a://data"}))


def test_package_exports_are_sorted_and_complete() -> None:
    import skein.fs

    assert skein.fs.__all__ == sorted(skein.fs.__all__, key=lambda n: (not n.isupper(), n))
    for name in skein.fs.__all__:
        assert getattr(skein.fs, name) is not None
