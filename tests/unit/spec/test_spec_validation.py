"""Every rule a specification is checked against, and the field path each error names."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from skein.errors import SkeinError, SpecError
from skein.spec import ACLs, ApplicationSpec, File, Master, Resources, Security, Service


def _spec(**changes: Any) -> dict[str, Any]:
    """A valid two-service spec as a dict, with top-level keys replaced."""
    spec: dict[str, Any] = {
        "name": "test",
        "services": {
            "scheduler": {"resources": {"memory": 512, "vcores": 1}, "script": "run"},
            "worker": {
                "resources": {"memory": "1 GiB", "vcores": 1},
                "script": "run",
                "depends": ["scheduler"],
            },
        },
    }
    spec.update(changes)
    return spec


def _worker(**changes: Any) -> dict[str, Any]:
    spec = _spec()
    spec["services"]["worker"].update(changes)
    return spec


def _master(**changes: Any) -> dict[str, Any]:
    return _spec(master=changes)


CASES: list[tuple[dict[str, Any], str]] = [
    # unknown, missing and null keys
    (_spec(nmae="x"), "nmae: unknown field (did you mean 'name'?)"),
    (_spec(zzz=1), "zzz: unknown field; expected one of: acls, file_systems, "),
    (_worker(scripts="x"), "services.worker.scripts: unknown field (did you mean 'script'?)"),
    (_worker(resources={"memory": 1, "vcores": 1, "cpus": 1}),
     "services.worker.resources.cpus: unknown field"),
    (_worker(resources={"vcores": 1}), "services.worker.resources.memory: required field is"),
    (_worker(resources=None), "services.worker.resources: required field is missing"),
    (_spec(services={"a": {"resources": {"memory": 1, "vcores": 1}}}),
     "services.a.script: required field is missing"),
    ({**_spec(), 1: "x"}, "field names must be strings, got 1"),
    # scalar types
    (_spec(name=123), "name: expected a string, got 123"),
    (_spec(max_attempts="2"), "max_attempts: expected an integer, got '2'"),
    (_worker(instances=True), "services.worker.instances: expected an integer, got True"),
    (_worker(allow_failures="yes"), "services.worker.allow_failures: expected true or false"),
    (_worker(env={"A": 1}), "services.worker.env.A: expected a string, got 1"),
    (_worker(env=["A=1"]), "services.worker.env: expected a mapping, got ['A=1']"),
    (_worker(nodes="host1"), "services.worker.nodes: expected a list, got 'host1'"),
    (_worker(nodes=["a", 2]), "services.worker.nodes[1]: expected a string, got 2"),
    (_spec(tags=[None]), "tags[0]: expected a string, got None"),
    (_spec(services=[]), "services: expected a mapping, got []"),
    (_spec(services={"a": "echo"}), "services.a: expected a mapping of Service fields, got 'echo'"),
    (_spec(master={"log_level": "loud"}),
     "master.log_level: expected one of ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF, got"),
    (_spec(acls={"enable": 1}), "acls.enable: expected true or false, got 1"),
    # memory and numeric ranges
    (_worker(resources={"memory": "lots", "vcores": 1}),
     "services.worker.resources.memory: expected a memory size like '2 GiB', got 'lots'"),
    (_worker(resources={"memory": 0, "vcores": 1}),
     "services.worker.resources.memory: must be at least 1 MiB, got 0"),
    (_worker(resources={"memory": "-1 GiB", "vcores": 1}),
     "services.worker.resources.memory: memory cannot be negative, got '-1 GiB'"),
    (_worker(resources={"memory": 1, "vcores": 0}),
     "services.worker.resources.vcores: must be at least 1, got 0"),
    (_worker(resources={"memory": 1, "vcores": 1, "gpus": -1}),
     "services.worker.resources.gpus: must be at least 0, got -1"),
    (_worker(resources={"memory": 1, "vcores": 1, "fpgas": -1}),
     "services.worker.resources.fpgas: must be at least 0, got -1"),
    (_worker(instances=-1), "services.worker.instances: must be at least 0, got -1"),
    (_worker(max_restarts=-2), "services.worker.max_restarts: must be at least -1, got -2"),
    (_spec(max_attempts=0), "max_attempts: must be at least 1, got 0"),
    # scripts and the commands sugar
    (_worker(script="  \n"), "services.worker.script: must not be empty"),
    (_worker(commands=["a"]),
     "services.worker.commands: give either 'script' or 'commands', not both"),
    (_worker(script=None, commands="e"), "services.worker.commands: expected a list, got 'e'"),
    (_worker(script=None, commands=[]), "services.worker.script: must not be empty"),
    # files
    (_worker(files={"a/b": "x"}), 'services.worker.files["a/b"]: a target must be a file name'),
    (_worker(files={"..": "x"}), 'services.worker.files[".."]: a target must be a file name'),
    (_worker(files={"": "x"}), 'services.worker.files[""]: a target must be a file name'),
    (_worker(files={"a": "x", "./a": "y"}), 'services.worker.files["./a"]: duplicates target'),
    (_worker(files={"a": ""}), "services.worker.files.a.source: must not be empty"),
    (_worker(files={"a": ["x"]}), "services.worker.files.a: expected a mapping of File fields"),
    (_worker(files={"a": {"source": "x", "type": "dir"}}),
     "services.worker.files.a.type: expected one of FILE, ARCHIVE, got 'dir'"),
    (_worker(files={"a": {"source": "x", "size": -1}}),
     "services.worker.files.a.size: must be at least 0, got -1"),
    (_worker(files={"a": {"type": "file"}}), "services.worker.files.a.source: required field"),
    (_master(files={"a/b": "x"}), 'master.files["a/b"]: a target must be a file name'),
    (_master(log_config={"source": "x", "extra": 1}), "master.log_config.extra: unknown field"),
    # environment
    (_worker(env={"A=B": "x"}), 'services.worker.env["A=B"]: not a valid environment variable'),
    (_master(env={"": "x"}), 'master.env[""]: not a valid environment variable name'),
    # services as a whole
    (_spec(services={}), "services: there must be at least one service, or a master script"),
    (_spec(services={" ": {"resources": {"memory": 1, "vcores": 1}, "script": "x"}}),
     'services[" "]: service names must not be empty'),
    (_worker(depends=["scheduler", "db", "cache"]),
     "services.worker.depends: unknown service(s) 'cache', 'db'"),
    (_worker(depends=["worker"]), "services.worker.depends: dependency cycle: worker -> worker"),
    # security
    (_master(security={"cert_bytes": "x"}),
     "master.security: give exactly one of key_file and key_bytes"),
    (_master(security={"cert_file": "a", "cert_bytes": "b", "key_file": "k"}),
     "master.security: give exactly one of cert_file and cert_bytes"),
    (_master(security={"cert_bytes": 1, "key_bytes": "k"}),
     "master.security.cert_bytes: expected text or bytes, got 1"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), CASES, ids=[message for _, message in CASES])
def test_invalid_specs_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        ApplicationSpec.from_dict(data)
    assert str(info.value).startswith(message)
    assert str(info.value) == (f"{info.value.path}: {info.value.reason}" if info.value.parts
                               else info.value.reason)  # fmt: skip


def test_cycles_are_reported_in_order() -> None:
    script = {"resources": {"memory": 1, "vcores": 1}, "script": "x"}
    services = {
        "a": {**script, "depends": ["b"]},
        "b": {**script, "depends": ["c"]},
        "c": {**script, "depends": ["a"]},
        "d": {**script, "depends": ["a"]},
    }
    with pytest.raises(
        SpecError, match=r"^services\.a\.depends: dependency cycle: a -> b -> c -> a$"
    ):
        ApplicationSpec.from_dict({"services": services})


def test_a_long_chain_without_a_cycle_is_accepted() -> None:
    script = {"resources": {"memory": 1, "vcores": 1}, "script": "x"}
    services = {f"s{i}": {**script, "depends": [f"s{i + 1}"]} for i in range(300)}
    services["s300"] = script
    assert len(ApplicationSpec.from_dict({"services": services}).services) == 301


def test_spec_error_is_a_value_error_and_a_skein_error() -> None:
    with pytest.raises(SpecError) as info:
        ApplicationSpec.from_dict(_spec(max_attempts=0))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SkeinError)
    assert info.value.parts == ("max_attempts",)
    assert info.value.reason == "must be at least 1, got 0"


def test_keys_with_dots_are_quoted_in_paths() -> None:
    data = _spec(
        services={"dask.worker": {"resources": {"memory": 1, "vcores": "1"}, "script": "x"}}
    )
    with pytest.raises(SpecError) as info:
        ApplicationSpec.from_dict(data)
    assert info.value.path == 'services["dask.worker"].resources.vcores'
    assert info.value.parts == ("services", "dask.worker", "resources", "vcores")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="expected a mapping of ApplicationSpec fields, got list"):
        ApplicationSpec.from_dict([])
    with pytest.raises(
        SpecError, match="expected a mapping of ApplicationSpec fields, got NoneType"
    ):
        ApplicationSpec.from_yaml("")


def test_null_means_default_for_fields_with_defaults() -> None:
    spec = ApplicationSpec.from_dict(_worker(env=None, files=None, depends=None, instances=None))
    worker = spec.services["worker"]
    assert (worker.env, worker.files, worker.depends, worker.instances) == ({}, {}, frozenset(), 1)


def test_python_construction_is_checked_the_same_way() -> None:
    resources = Resources(memory=1, vcores=1)
    with pytest.raises(
        SpecError, match=r"^memory: expected a memory size like '2 GiB', got 'lots'$"
    ):
        Resources(memory="lots", vcores=1)
    with pytest.raises(SpecError, match=r"^instances: must be at least 0, got -1$"):
        Service(resources=resources, script="x", instances=-1)
    with pytest.raises(SpecError, match=r"^files\.a\.type: expected one of FILE, ARCHIVE"):
        Service(resources=resources, script="x", files={"a": {"source": "/x", "type": "dir"}})
    with pytest.raises(SpecError, match=r'^services\["a b"\]\.script: must not be empty$'):
        ApplicationSpec(services={"a b": {"resources": {"memory": 1, "vcores": 1}, "script": ""}})
    with pytest.raises(SpecError, match=r"^view_users: expected a list, got 'alice'$"):
        ACLs(view_users="alice")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"^log_config\.source: must not be empty$"):
        Master(log_config="")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"^give exactly one of cert_file and cert_bytes$"):
        Security(key_bytes=b"k")
    with pytest.raises(SpecError, match=r"^source: expected a string, got None$"):
        File(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="missing"):
        Service(resources=resources)  # type: ignore[call-arg]


def test_checks_do_not_change_the_input() -> None:
    data = _worker(files={"./a.py": "a.py"}, commands=["a", "b"], script=None)
    before = copy.deepcopy(data)
    ApplicationSpec.from_dict(data)
    assert data == before
