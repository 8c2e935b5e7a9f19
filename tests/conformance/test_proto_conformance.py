"""Our ``.proto`` subset against the descriptors compiled into Hadoop's jars.

Every message, enum and service we declare (in any generated ``*_pb2`` module
under ``skein._proto``) must exist in Hadoop under the same full name, and each
field we declare must have Hadoop's number, type, label and default. Hadoop's
``required`` counts as our ``optional`` (same bytes on the wire). Fields and
methods that Hadoop has and we leave out are fine: we declare a subset. Enum
values are compared in both directions, because proto2 drops a value it does
not know into the unknown fields, which would read back as "unset".

Hadoop ships no ``.proto`` files in its jars; ``DumpDescriptors.java`` loads
the generated outer classes and prints their embedded file descriptors.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

import skein._proto
from skein.errors import TestClusterError
from skein.testcluster.artifacts import SUPPORTED_HADOOP_VERSIONS, fetch_hadoop

FieldProto = descriptor_pb2.FieldDescriptorProto
Declaration = (
    descriptor_pb2.DescriptorProto
    | descriptor_pb2.EnumDescriptorProto
    | descriptor_pb2.ServiceDescriptorProto
)

# Generated outer classes whose descriptors (and their imports) we compare
# against: Hadoop Common's RPC and security files, and YARN's API files.
HADOOP_OUTER_CLASSES = (
    "org.apache.hadoop.ipc.protobuf.RpcHeaderProtos",
    "org.apache.hadoop.ipc.protobuf.IpcConnectionContextProtos",
    "org.apache.hadoop.ipc.protobuf.ProtobufRpcEngine2Protos",
    "org.apache.hadoop.security.proto.SecurityProtos",
    "org.apache.hadoop.yarn.proto.YarnProtos",
    "org.apache.hadoop.yarn.proto.YarnServiceProtos",
    "org.apache.hadoop.yarn.proto.YarnSecurityTokenProtos",
    "org.apache.hadoop.yarn.proto.ApplicationClientProtocol",
    "org.apache.hadoop.yarn.proto.ApplicationMasterProtocol",
    "org.apache.hadoop.yarn.proto.ContainerManagementProtocol",
)


# --- descriptor comparison (pure) ----------------------------------------------


def index_declarations(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> dict[str, Declaration]:
    """Map the full name (``package.Outer.Inner``) of every declaration in ``files``."""
    found: dict[str, Declaration] = {}

    def visit(prefix: str, message: descriptor_pb2.DescriptorProto) -> None:
        name = f"{prefix}.{message.name}"
        found[name] = message
        for enum in message.enum_type:
            found[f"{name}.{enum.name}"] = enum
        for nested in message.nested_type:
            visit(name, nested)

    for file in files:
        for message in file.message_type:
            visit(file.package, message)
        for enum in file.enum_type:
            found[f"{file.package}.{enum.name}"] = enum
        for service in file.service:
            found[f"{file.package}.{service.name}"] = service
    return found


def _label(field: FieldProto) -> str:
    # `required` is only a validation rule; on the wire it is `optional`.
    if field.label == FieldProto.LABEL_REQUIRED:
        return "optional"
    return FieldProto.Label.Name(field.label).removeprefix("LABEL_").lower()


def _describe(field: FieldProto) -> str:
    kind = field.type_name or FieldProto.Type.Name(field.type).removeprefix("TYPE_").lower()
    default = f" [default = {field.default_value!r}]" if field.HasField("default_value") else ""
    packed = " [packed]" if field.options.packed else ""
    return f"{_label(field)} {kind} {field.name} = {field.number}{default}{packed}"


def diff_message(
    name: str, ours: descriptor_pb2.DescriptorProto, theirs: descriptor_pb2.DescriptorProto
) -> list[str]:
    """Differences between one of our messages and Hadoop's (nested types aside)."""
    problems = []
    their_fields = {field.name: field for field in theirs.field}
    their_numbers = {field.number: field for field in theirs.field}
    for field in ours.field:
        theirs_by_name = their_fields.get(field.name)
        if theirs_by_name is None:
            clash = their_numbers.get(field.number)
            hint = f" (Hadoop's field {field.number} is {clash.name!r})" if clash else ""
            problems.append(f"{name}.{field.name}: not in Hadoop{hint}")
            continue
        if _describe(field) != _describe(theirs_by_name):
            problems.append(
                f"{name}.{field.name}:\n    ours:   {_describe(field)}\n"
                f"    Hadoop: {_describe(theirs_by_name)}"
            )
    return problems


def diff_enum(
    name: str,
    ours: descriptor_pb2.EnumDescriptorProto,
    theirs: descriptor_pb2.EnumDescriptorProto,
) -> list[str]:
    """Differences between one of our enums and Hadoop's; both value sets must be equal."""
    our_values = {value.name: value.number for value in ours.value}
    their_values = {value.name: value.number for value in theirs.value}
    problems = []
    for value, number in our_values.items():
        if value not in their_values:
            problems.append(f"{name}.{value} = {number}: not in Hadoop")
        elif their_values[value] != number:
            problems.append(f"{name}.{value}: ours = {number}, Hadoop = {their_values[value]}")
    problems.extend(
        f"{name}.{value} = {number}: missing here (would decode as unset)"
        for value, number in their_values.items()
        if value not in our_values
    )
    return problems


def diff_service(
    name: str,
    ours: descriptor_pb2.ServiceDescriptorProto,
    theirs: descriptor_pb2.ServiceDescriptorProto,
) -> list[str]:
    """Differences between one of our services and Hadoop's (a subset of methods is fine)."""
    their_methods = {method.name: method for method in theirs.method}
    problems = []
    for method in ours.method:
        their_method = their_methods.get(method.name)
        if their_method is None:
            problems.append(f"{name}.{method.name}: not in Hadoop")
            continue
        ours_sig = f"({method.input_type}) -> {method.output_type}"
        their_sig = f"({their_method.input_type}) -> {their_method.output_type}"
        if ours_sig != their_sig:
            problems.append(f"{name}.{method.name}: ours {ours_sig}, Hadoop {their_sig}")
    return problems


def diff_declarations(ours: dict[str, Declaration], hadoop: dict[str, Declaration]) -> list[str]:
    """Every difference between our declarations and Hadoop's, matched by full name."""
    problems = []
    for name, declaration in sorted(ours.items()):
        theirs = hadoop.get(name)
        if theirs is None:
            problems.append(f"{name}: not declared by Hadoop")
        elif type(theirs) is not type(declaration):
            problems.append(f"{name}: a {type(theirs).__name__} in Hadoop")
        elif isinstance(declaration, descriptor_pb2.DescriptorProto):
            assert isinstance(theirs, descriptor_pb2.DescriptorProto)
            problems.extend(diff_message(name, declaration, theirs))
        elif isinstance(declaration, descriptor_pb2.EnumDescriptorProto):
            assert isinstance(theirs, descriptor_pb2.EnumDescriptorProto)
            problems.extend(diff_enum(name, declaration, theirs))
        else:
            assert isinstance(theirs, descriptor_pb2.ServiceDescriptorProto)
            problems.extend(diff_service(name, declaration, theirs))
    return problems


# --- our files and Hadoop's -----------------------------------------------------


def _our_files() -> Iterator[descriptor_pb2.FileDescriptorProto]:
    for module_info in pkgutil.walk_packages(skein._proto.__path__, "skein._proto."):
        if not module_info.name.endswith("_pb2"):
            continue
        if module_info.name.startswith("skein._proto.api."):
            continue  # skein's own API, not a subset of Hadoop's
        module = importlib.import_module(module_info.name)
        file = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(file)
        yield file


OUR_FILES = sorted(_our_files(), key=lambda file: file.name)


def dump_hadoop_descriptors(version: str, java: str) -> list[descriptor_pb2.FileDescriptorProto]:
    """Run ``DumpDescriptors.java`` against Hadoop ``version``'s jars."""
    jars = fetch_hadoop(version)
    program = resources.files("skein.testcluster") / "resources" / "DumpDescriptors.java"
    with resources.as_file(program) as source:
        result = subprocess.run(
            [java, "-cp", jars.classpath, str(Path(source)), *HADOOP_OUTER_CLASSES],
            capture_output=True,
            check=False,
            timeout=300,
        )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        pytest.fail(f"DumpDescriptors failed for Hadoop {version}:\n{stderr}")
    descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(result.stdout)
    return list(descriptor_set.file)


@pytest.fixture(scope="module", params=SUPPORTED_HADOOP_VERSIONS)
def hadoop_declarations(request: pytest.FixtureRequest) -> dict[str, Declaration]:
    """Hadoop's declarations by full name, for each supported version in turn."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not on PATH")
    version: str = request.param
    try:
        files = dump_hadoop_descriptors(version, java)
    except TestClusterError as exc:
        pytest.skip(f"Hadoop {version} jars unavailable: {exc}")
    return index_declarations(files)


@pytest.mark.java
@pytest.mark.parametrize("our_file", OUR_FILES, ids=lambda file: file.name)
def test_declarations_match_hadoop(
    hadoop_declarations: dict[str, Declaration],
    our_file: descriptor_pb2.FileDescriptorProto,
) -> None:
    problems = diff_declarations(index_declarations([our_file]), hadoop_declarations)
    assert not problems, f"{our_file.name} differs from Hadoop:\n" + "\n".join(problems)


def test_every_generated_module_is_checked() -> None:
    names = {file.name for file in OUR_FILES}
    assert "skein/_proto/yarn/yarn_protos.proto" in names
    assert "skein/_proto/hadoop/Security.proto" in names


# --- the comparison itself, on hand-made descriptors ------------------------------


def _message(name: str, *fields: tuple[str, int, int, int]) -> descriptor_pb2.DescriptorProto:
    message = descriptor_pb2.DescriptorProto(name=name)
    for field_name, number, label, kind in fields:
        message.field.add(name=field_name, number=number, label=label, type=kind)
    return message


OPTIONAL, REQUIRED, REPEATED = (
    FieldProto.LABEL_OPTIONAL,
    FieldProto.LABEL_REQUIRED,
    FieldProto.LABEL_REPEATED,
)
INT32, INT64, STRING = FieldProto.TYPE_INT32, FieldProto.TYPE_INT64, FieldProto.TYPE_STRING


def test_subset_and_required_as_optional_are_accepted() -> None:
    hadoop = _message("M", ("a", 1, REQUIRED, STRING), ("b", 2, OPTIONAL, INT32))
    ours = _message("M", ("a", 1, OPTIONAL, STRING))
    assert diff_message("p.M", ours, hadoop) == []


def test_field_number_type_and_label_drift_is_reported() -> None:
    hadoop = _message("M", ("a", 1, OPTIONAL, INT64), ("b", 2, REPEATED, STRING))
    ours = _message("M", ("a", 1, OPTIONAL, INT32), ("b", 3, OPTIONAL, STRING))
    problems = diff_message("p.M", ours, hadoop)
    assert len(problems) == 2
    assert "optional int32 a = 1" in problems[0]
    assert "optional int64 a = 1" in problems[0]
    assert "repeated string b = 2" in problems[1]


def test_unknown_field_names_hadoops_field_at_that_number() -> None:
    hadoop = _message("M", ("appId", 1, OPTIONAL, INT32))
    ours = _message("M", ("app_id", 1, OPTIONAL, INT32))
    assert diff_message("p.M", ours, hadoop) == [
        "p.M.app_id: not in Hadoop (Hadoop's field 1 is 'appId')"
    ]


def test_defaults_are_compared() -> None:
    hadoop = _message("M", ("s", 1, OPTIONAL, STRING))
    hadoop.field[0].default_value = "N/A"
    ours = _message("M", ("s", 1, OPTIONAL, STRING))
    assert diff_message("p.M", ours, hadoop) != []


def test_enum_values_must_match_both_ways() -> None:
    hadoop = descriptor_pb2.EnumDescriptorProto(name="E")
    hadoop.value.add(name="X_A", number=1)
    hadoop.value.add(name="X_B", number=2)
    ours = descriptor_pb2.EnumDescriptorProto(name="E")
    ours.value.add(name="X_A", number=2)
    ours.value.add(name="A", number=3)
    assert diff_enum("p.E", ours, hadoop) == [
        "p.E.X_A: ours = 2, Hadoop = 1",
        "p.E.A = 3: not in Hadoop",
        "p.E.X_B = 2: missing here (would decode as unset)",
    ]


def test_declarations_missing_in_hadoop_are_reported() -> None:
    ours = descriptor_pb2.FileDescriptorProto(name="x.proto", package="p")
    ours.message_type.add(name="Mine")
    assert diff_declarations(index_declarations([ours]), {}) == ["p.Mine: not declared by Hadoop"]


def test_service_signatures_are_compared() -> None:
    hadoop = descriptor_pb2.ServiceDescriptorProto(name="S")
    hadoop.method.add(name="call", input_type=".p.A", output_type=".p.B")
    ours = descriptor_pb2.ServiceDescriptorProto(name="S")
    ours.method.add(name="call", input_type=".p.A", output_type=".p.C")
    ours.method.add(name="other", input_type=".p.A", output_type=".p.B")
    assert diff_service("p.S", ours, hadoop) == [
        "p.S.call: ours (.p.A) -> .p.C, Hadoop (.p.A) -> .p.B",
        "p.S.other: not in Hadoop",
    ]
