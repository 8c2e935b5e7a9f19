"""Specs through dicts, YAML, JSON and files: round trips, sugar, paths and example specs."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skein.errors import SpecError
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
)

EXAMPLES = pathlib.Path(__file__).parents[2] / "fixtures" / "specs"

_words = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12)
_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
_script = st.lists(_text, min_size=1, max_size=4).map("\n".join).filter(str.strip)
_resources = st.builds(
    Resources,
    memory=st.integers(1, 2**20),
    vcores=st.integers(1, 64),
    gpus=st.integers(0, 8),
    fpgas=st.integers(0, 8),
)
_files = st.dictionaries(
    _words.filter(lambda name: name not in (".", "..")),
    st.builds(
        File,
        st.one_of(_words.map(lambda name: f"/data/{name}"), _words.map(lambda n: f"hdfs:///{n}")),
        type=st.none() | st.sampled_from(FileType),
        visibility=st.sampled_from(FileVisibility),
        size=st.integers(0, 2**40),
        timestamp=st.integers(0, 2**42),
    ),
    max_size=3,
)
_env = st.dictionaries(_words.filter(lambda name: "=" not in name), _text, max_size=3)
_names = st.lists(_words, max_size=3)


@st.composite
def _services(draw: st.DrawFn) -> dict[str, Service]:
    names = draw(st.lists(_words, min_size=1, max_size=4, unique=True))
    services = {}
    for index, name in enumerate(names):
        services[name] = Service(
            resources=draw(_resources),
            script=draw(_script),
            instances=draw(st.integers(0, 100)),
            files=draw(_files),
            env=draw(_env),
            # Only on services declared earlier, so there is never a cycle.
            depends=draw(st.sets(st.sampled_from(names[:index]))) if index else frozenset(),
            max_restarts=draw(st.integers(-1, 10)),
            allow_failures=draw(st.booleans()),
            node_label=draw(_text),
            nodes=tuple(draw(_names)),
            racks=tuple(draw(_names)),
            relax_locality=draw(st.booleans()),
        )
    return services


_security = st.builds(
    Security,
    cert_bytes=st.just(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
    key_bytes=st.just(b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"),
) | st.builds(Security, cert_file=st.just("/etc/skein/a.crt"), key_file=st.just("hdfs:///k.pem"))

_specs = st.builds(
    ApplicationSpec,
    name=_words,
    queue=_words,
    user=_text,
    node_label=_text,
    tags=st.frozensets(_words, max_size=3),
    file_systems=st.lists(_words.map(lambda host: f"hdfs://{host}:8020"), max_size=2).map(tuple),
    acls=st.builds(
        ACLs,
        enable=st.booleans(),
        view_users=_names.map(tuple),
        modify_groups=_names.map(tuple),
        ui_users=_names.map(tuple),
    ),
    max_attempts=st.integers(1, 5),
    master=st.builds(
        Master,
        resources=_resources,
        script=_text,
        files=_files,
        env=_env,
        log_level=st.sampled_from(LogLevel),
        log_config=st.none() | _words.map(lambda name: File(f"/etc/{name}.properties")),
        security=st.none() | _security,
    ),
    services=_services(),
)


@settings(max_examples=60, deadline=None)
@given(_specs)
def test_round_trips(spec: ApplicationSpec) -> None:
    assert ApplicationSpec.from_dict(spec.to_dict()) == spec
    assert ApplicationSpec.from_json(spec.to_json()) == spec
    assert ApplicationSpec.from_yaml(spec.to_yaml()) == spec
    assert ApplicationSpec.from_dict(spec.to_dict(skip_nulls=False)) == spec


@settings(max_examples=20, deadline=None)
@given(_specs, st.sampled_from(["spec.yaml", "spec.yml", "spec.json"]))
def test_file_round_trips(tmp_path_factory: pytest.TempPathFactory, spec: ApplicationSpec,
                          name: str) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("spec") / name
    spec.to_file(path)
    assert ApplicationSpec.from_file(path) == spec


def test_skip_nulls() -> None:
    master = Master(script="x")
    assert "security" not in master.to_dict()
    assert master.to_dict(skip_nulls=False)["security"] is None


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda path: path.name)
def test_example_specs_load_and_round_trip(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    spec = ApplicationSpec.from_file(path)
    assert ApplicationSpec.from_yaml(spec.to_yaml()) == spec
    assert ApplicationSpec.from_json(spec.to_json()) == spec
    copy = tmp_path / f"copy{path.suffix}"
    spec.to_file(copy)
    assert ApplicationSpec.from_file(copy) == spec


def test_hello_world() -> None:
    spec = ApplicationSpec.from_file(EXAMPLES / "hello_world.yaml")
    assert spec == ApplicationSpec(
        name="hello-world",
        services={"hello": Service(resources=Resources(128, 1), script='echo "hello world"')},
    )
    assert spec == ApplicationSpec.from_file(EXAMPLES / "hello_world_commands.yaml")


def test_dask_example() -> None:
    spec = ApplicationSpec.from_file(EXAMPLES / "dask.yaml")
    scheduler, worker = spec.services["dask.scheduler"], spec.services["dask.worker"]
    assert (spec.queue, spec.tags, spec.max_attempts) == ("analytics", {"dask", "nightly"}, 2)
    assert worker.depends == {"dask.scheduler"}
    assert (worker.instances, worker.max_restarts, worker.allow_failures) == (4, -1, True)
    assert worker.resources == Resources(memory=4096, vcores=2)
    environment = str(EXAMPLES / "environment.tar.gz")
    assert scheduler.files["environment"] == File(environment, type=FileType.ARCHIVE)
    assert worker.files["environment"].visibility is FileVisibility.PRIVATE
    assert worker.env == {"DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    assert scheduler.script.splitlines()[0] == "source environment/bin/activate"


def test_master_script_example() -> None:
    spec = ApplicationSpec.from_file(EXAMPLES / "master_script.yaml")
    assert spec.services == {}
    assert spec.master.script == "python driver.py"
    assert spec.master.log_level is LogLevel.DEBUG
    assert spec.master.resources == Resources(1024, 1)
    assert spec.master.files["driver.py"].source == str(EXAMPLES / "driver.py")
    assert spec.master.files["data.zip"] == File("hdfs:///shared/data.zip", type="archive")
    assert spec.acls == ACLs(
        enable=True, view_users=("*",), modify_users=("alice", "bob"), ui_users=("carol",)
    )
    assert (spec.user, spec.node_label) == ("alice", "gpu")
    assert spec.file_systems == ("hdfs://other-namenode:8020",)


def test_commands_are_joined_into_the_script() -> None:
    spec = ApplicationSpec.from_file(EXAMPLES / "csv2parquet.json")
    service = spec.services["myapp"]
    assert service.script == "source environment/bin/activate\npython csv2parquet.py"
    assert "commands" not in service.to_dict()
    assert service.nodes == ("worker-1.example.com",)
    assert service.relax_locality is True


def test_relative_paths_follow_the_spec_file(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "project" / "deploy"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "dask.yaml", folder / "spec.yaml")
    (folder / "spec.yaml").write_text(
        (folder / "spec.yaml").read_text().replace("source: environment.tar.gz",
                                                   "source: ../envs/./environment.tar.gz")
    )  # fmt: skip
    spec = ApplicationSpec.from_file(os.path.relpath(folder / "spec.yaml"))
    assert spec.services["dask.scheduler"].files["environment"].source == str(
        folder / "environment.tar.gz"
    )
    assert spec.services["dask.worker"].files["environment"].source == str(
        tmp_path / "project" / "envs" / "environment.tar.gz"
    )


def test_other_relative_paths_follow_the_spec_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / "spec.yml").write_text(
        "master:\n"
        "  script: run\n"
        "  log_config: log4j.properties\n"
        "  security: {cert_file: certs/a.crt, key_file: /abs/a.pem}\n"
        "  files: {a: 'file:///x/a', b: 'viewfs://cluster/b', c: /abs/c}\n"
    )
    master = ApplicationSpec.from_file(tmp_path / "spec.yml").master
    assert master.log_config == File(str(tmp_path / "log4j.properties"))
    assert master.security == Security(
        cert_file=str(tmp_path / "certs/a.crt"), key_file="/abs/a.pem"
    )
    assert [file.source for file in master.files.values()] == [
        "file:///x/a",
        "viewfs://cluster/b",
        "/abs/c",
    ]


def test_python_constructed_paths_follow_the_working_directory(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert File("env/x.py").source == str(tmp_path / "env" / "x.py")
    assert ApplicationSpec.from_dict({"master": {"script": "x", "files": {"a": "a"}}}).master.files[
        "a"
    ].source == str(tmp_path / "a")


@pytest.mark.parametrize(
    ("name", "format", "expected"),
    [("a.yaml", "infer", "yaml"), ("a.YML", "infer", "yaml"), ("a.json", "infer", "json"),
     ("a.txt", "yaml", "yaml"), ("a.yaml", "JSON", "json")],
)  # fmt: skip
def test_formats(tmp_path: pathlib.Path, name: str, format: str, expected: str) -> None:
    spec = ApplicationSpec(master=Master(script="x"))
    spec.to_file(tmp_path / name, format=format)
    text = (tmp_path / name).read_text()
    assert text.startswith("{") == (expected == "json")
    assert ApplicationSpec.from_file(tmp_path / name, format=format) == spec


def test_unknown_formats(tmp_path: pathlib.Path) -> None:
    spec = ApplicationSpec(master=Master(script="x"))
    with pytest.raises(SpecError, match=r"cannot infer the format of '.*a\.txt'"):
        spec.to_file(tmp_path / "a.txt")
    with pytest.raises(SpecError, match="unknown format 'toml'"):
        ApplicationSpec.from_file(tmp_path / "a.yaml", format="toml")


def test_parse_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(SpecError, match=r"(?s)invalid YAML: .*line 1, column"):
        ApplicationSpec.from_yaml("name: [unclosed")
    (tmp_path / "bad.yaml").write_text("name: x\nservices: [\n")
    with pytest.raises(SpecError, match=r'(?s)invalid YAML: .*bad\.yaml", line 3'):
        ApplicationSpec.from_file(tmp_path / "bad.yaml")
    with pytest.raises(SpecError, match=r"invalid JSON: .*line 1 column"):
        ApplicationSpec.from_json("{")
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(SpecError, match="expected a mapping of ApplicationSpec fields, got"):
        ApplicationSpec.from_file(tmp_path / "list.yaml")
    with pytest.raises(FileNotFoundError):
        ApplicationSpec.from_file(tmp_path / "missing.yaml")


def test_yaml_output_is_readable() -> None:
    service = Service(resources=Resources(1, 1), script="echo a\necho b\n")
    assert "script: |\n  echo a\n  echo b\n" in service.to_yaml()


def test_every_class_has_the_conversions() -> None:
    for value in (Resources(1, 1), File("/x"), ACLs(), Master(), Security(cert_bytes=b"c",
                  key_bytes=b"k")):  # fmt: skip
        cls = type(value)
        assert cls.from_dict(value.to_dict()) == value
        assert cls.from_yaml(value.to_yaml()) == value
        assert cls.from_json(value.to_json()) == value
        assert dataclasses.replace(value) == value
