"""Exit statuses of completed containers: state and message."""

from __future__ import annotations

import pytest

from skein.master.containers import ContainerState
from skein.master.exit_status import ExitStatus, describe_completion, short_diagnostics

PMEM_DIAGNOSTICS = (
    "Container [pid=4242,containerID=container_1_0001_01_000002] is running 52428800B beyond "
    "the 'PHYSICAL' memory limit. Current usage: 178 MB of 128 MB physical memory used; "
    "2.1 GB of 268.8 MB virtual memory used. Killing container.\nDump of the process-tree ..."
)


def test_zero_succeeds() -> None:
    assert describe_completion(0, "whatever") == (
        ContainerState.SUCCEEDED,
        "Completed successfully.",
    )


@pytest.mark.parametrize("code", [1, 2, 127, 137, 143])
def test_a_positive_exit_code_fails_pointing_at_the_logs(code: int) -> None:
    state, message = describe_completion(code, "Exception from container-launch.")
    assert state is ContainerState.FAILED
    assert f"exit code {code}" in message
    assert "see logs" in message


def test_physical_memory_kill_quotes_the_use() -> None:
    state, message = describe_completion(ExitStatus.KILLED_EXCEEDED_PMEM, PMEM_DIAGNOSTICS)
    assert state is ContainerState.FAILED
    assert message == (
        "Killed by YARN for exceeding its memory limit (178 MB of 128 MB physical memory used)."
    )


def test_virtual_memory_kill_quotes_the_virtual_use() -> None:
    _, message = describe_completion(ExitStatus.KILLED_EXCEEDED_VMEM, PMEM_DIAGNOSTICS)
    assert "(2.1 GB of 268.8 MB virtual memory used)" in message


def test_memory_kill_without_numbers_still_says_memory() -> None:
    _, message = describe_completion(ExitStatus.KILLED_EXCEEDED_PMEM, "")
    assert message == "Killed by YARN for exceeding its memory limit."


def test_other_yarn_statuses_give_yarns_diagnostics() -> None:
    diagnostics = (
        "[2024-05-01 10:00:00.000]Resource hdfs://nn:8020/tmp/x.txt changed on src filesystem "
        '- expected: "1", was: "1714557600000"\njava.io.IOException: Resource changed\n'
        "\tat org.apache.hadoop.yarn.util.FSDownload.verifyAndCopy(FSDownload.java:272)\n"
        "\tat java.lang.Thread.run(Thread.java:750)\n"
    )
    state, message = describe_completion(ExitStatus.INVALID, diagnostics)
    assert state is ContainerState.FAILED
    assert "changed on src filesystem" in message
    assert "FSDownload" not in message
    assert message.endswith("java.io.IOException: Resource changed")


def test_preemption_says_so() -> None:
    _, message = describe_completion(ExitStatus.PREEMPTED, "Container preempted by scheduler")
    assert message == "Preempted by YARN. Container preempted by scheduler"


def test_a_yarn_status_without_diagnostics_is_named() -> None:
    assert describe_completion(ExitStatus.ABORTED, "")[1] == (
        "Container ended with YARN exit status -100 (ABORTED)."
    )
    assert describe_completion(-7, "  ")[1] == "Container ended with YARN exit status -7."


def test_short_diagnostics_caps_the_length() -> None:
    text = short_diagnostics("x" * 5000)
    assert len(text) == 2000
    assert text.endswith("...")


def test_short_diagnostics_keeps_lines_that_merely_start_with_at() -> None:
    assert short_diagnostics("at least one disk failed") == "at least one disk failed"
