"""The specification classes as Python values: construction forms, defaults, immutability."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import pickle
import types

import pytest

import skein.spec
from skein.spec import (
    ACLs,
    ApplicationSpec,
    File,
    FileType,
    FileVisibility,
    LogLevel,
    Master,
    Resources,
    Security,
    Service,
    base,
    conversion,
    loading,
    memory,
    model,
    schema,
    security,
)


def _service(**changes: object) -> Service:
    resources = Resources(memory=1024, vcores=1)
    return Service(resources=resources, script="run", **changes)  # type: ignore[arg-type]


def test_skein_08_construction_forms() -> None:
    assert Resources(memory="2 GiB", vcores=2) == Resources(2048, 2)
    assert Resources(vcores=1, memory=1.5, gpus=1).memory == 2
    assert File("/x.tar.gz", type="file", visibility="public", size=3, timestamp=4) == File(
        source="/x.tar.gz", type=FileType.FILE, visibility=FileVisibility.PUBLIC, size=3,
        timestamp=4,
    )  # fmt: skip
    service = _service(
        instances=2,
        files={"a.py": "/src/a.py", "env": File("/envs/env.zip")},
        env={"A": "1"},
        depends=["x"],
        max_restarts=-1,
        allow_failures=True,
        node_label="gpu",
        nodes=["n1"],
        racks=["r1"],
        relax_locality=True,
    )
    assert service.files == {"a.py": File("/src/a.py"), "env": File("/envs/env.zip")}
    assert (service.depends, service.nodes, service.racks) == ({"x"}, ("n1",), ("r1",))
    spec = ApplicationSpec(
        services={"x": _service(), "y": service},
        master=Master(log_level="debug"),
        name="n",
        queue="q",
        user="u",
        node_label="l",
        tags=["a", "b", "a"],
        file_systems=["hdfs://nn2:8020"],
        acls=ACLs(enable=True, view_users=["*"]),
        max_attempts=3,
    )  # type: ignore[arg-type]
    assert spec.tags == frozenset({"a", "b"})
    assert spec.master.log_level is LogLevel.DEBUG
    assert spec.max_attempts == 3  # read back as given, not capped at 1


def test_defaults() -> None:
    spec = ApplicationSpec(master=Master(script="x"))
    assert (spec.name, spec.queue, spec.user, spec.node_label) == ("skein", "default", "", "")
    assert (spec.tags, spec.file_systems, spec.max_attempts, spec.services) == (set(), (), 1, {})
    assert spec.acls == ACLs(enable=False)
    assert spec.master.resources == Resources(512, 1)
    assert (spec.master.log_level, spec.master.log_config, spec.master.security) == (
        LogLevel.INFO, None, None)  # fmt: skip
    service = _service()
    assert (service.instances, service.max_restarts, service.allow_failures) == (1, 0, False)
    assert (service.relax_locality, service.files, service.env) == (False, {}, {})
    assert File("/a").visibility is FileVisibility.APPLICATION


def test_resources_are_distinct_per_field() -> None:
    # Skein 0.8's Java side sent the gpu count as the fpga count; ours keeps both.
    resources = Resources.from_dict({"memory": 1, "vcores": 1, "gpus": 2, "fpgas": 1})
    assert (resources.gpus, resources.fpgas) == (2, 1)
    assert resources.to_dict() == {"memory": 1, "vcores": 1, "gpus": 2, "fpgas": 1}


@pytest.mark.parametrize(
    ("source", "kind"),
    [("/a.zip", "ARCHIVE"), ("/a.tar.gz", "ARCHIVE"), ("/a.tgz", "ARCHIVE"), ("/a.tar", "FILE"),
     ("hdfs:///a.zip", "ARCHIVE"), ("/a.py", "FILE"), ("/zip", "FILE")],
)  # fmt: skip
def test_file_type_is_inferred(source: str, kind: str) -> None:
    assert File(source).type == kind
    assert File(source, type="file").type is FileType.FILE


def test_file_targets_drop_a_leading_dot_slash() -> None:
    assert list(_service(files={"./a.py": "/a.py"}).files) == ["a.py"]


def test_enums() -> None:
    assert FileType("archive") is FileType.ARCHIVE
    assert LogLevel("Warn") is LogLevel.WARN
    assert FileVisibility.PUBLIC == "PUBLIC"
    assert str(LogLevel.INFO) == "INFO"
    assert repr(FileType.FILE) == "FileType.FILE"
    names = ["ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"]
    assert LogLevel.values() == [LogLevel(name) for name in names]
    with pytest.raises(ValueError, match="'folder' is not a valid FileType"):
        FileType("folder")


def test_objects_are_frozen() -> None:
    service = _service(env={"A": "1"}, files={"a": "/a"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        service.instances = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        service.env["B"] = "2"  # type: ignore[index]
    assert isinstance(service.env, types.MappingProxyType)
    assert dataclasses.replace(service, instances=5).instances == 5
    # Python 3.10 and 3.11 raise TypeError (a dataclass slots quirk), later ones AttributeError.
    with pytest.raises((AttributeError, TypeError)):
        service.extra = 1  # type: ignore[attr-defined]


def test_caller_mappings_are_copied() -> None:
    env = {"A": "1"}
    service = _service(env=env)
    env["B"] = "2"
    assert service.env == {"A": "1"}


def test_equality_pickling_and_copies() -> None:
    spec = ApplicationSpec(
        services={"a": _service(files={"x": "/x"})},
        master=Master(security=Security(cert_bytes=b"c", key_bytes=b"k")),
    )
    assert spec == ApplicationSpec.from_dict(spec.to_dict())
    assert spec != dataclasses.replace(spec, name="other")
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert copy.deepcopy(spec) == spec
    assert copy.copy(spec) == spec
    assert hash(Resources(1, 1)) == hash(Resources(1, 1))
    assert hash(File("/a")) == hash(File("/a"))


def test_reprs_show_what_differs_from_the_defaults() -> None:
    spec = ApplicationSpec(
        name="demo",
        tags=["b", "a"],
        services={"web": _service(instances=2, env={"A": "1"})},
    )
    assert repr(spec) == (
        "ApplicationSpec(name='demo', tags={'a', 'b'}, services={'web': Service("
        "resources=Resources(memory=1024, vcores=1), script='run', instances=2, env={'A': '1'})})"
    )
    assert repr(Master()) == "Master()"
    assert repr(File("/a", visibility="private")) == (
        "File(source='/a', type=FileType.FILE, visibility=FileVisibility.PRIVATE)"
    )


def test_security_repr_hides_secrets() -> None:
    security = Security(cert_bytes="CERT", key_bytes=b"KEY")
    assert security.cert_bytes == b"CERT"
    assert "KEY" not in repr(security)
    assert "CERT" not in repr(security)
    files = Security(cert_file="/a.crt", key_file="/a.pem")
    assert repr(files) == "Security(cert_file='/a.crt', key_file='/a.pem')"


def test_help_lists_each_field_once_from_its_declaration() -> None:
    doc = Service.__doc__ or ""
    assert "Attributes:\n    resources: Size of each container.\n" in doc
    for field in dataclasses.fields(Service):
        assert doc.count(f"    {field.name}: ") == 1


@pytest.mark.parametrize(
    "module", [skein.spec, base, conversion, loading, memory, model, schema, security],
    ids=lambda module: module.__name__,
)  # fmt: skip
def test_docstring_examples(module: types.ModuleType) -> None:
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_public_names() -> None:
    assert skein.spec.__all__ == sorted(skein.spec.__all__)
    for name in skein.spec.__all__:
        assert getattr(skein.spec, name).__module__.startswith("skein.spec")
