"""How a completed YARN container ended, in a container state and a message for people.

A completed container reports an exit status: its process's exit code, or
one of YARN's negative codes for ends the process did not choose
(``org.apache.hadoop.yarn.api.records.ContainerExitStatus``). Zero is
success; anything else is a failure, explained as precisely as the status
and the NodeManager's diagnostics allow.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from skein.master.containers import ContainerState

__all__ = ["ExitStatus", "describe_completion", "short_diagnostics"]


class ExitStatus(enum.IntEnum):
    """YARN's own exit statuses (``ContainerExitStatus``), for ends the process did not choose."""

    SUCCESS = 0
    INVALID = -1000
    ABORTED = -100
    DISKS_FAILED = -101
    PREEMPTED = -102
    KILLED_EXCEEDED_VMEM = -103
    KILLED_EXCEEDED_PMEM = -104
    KILLED_BY_APPMASTER = -105
    KILLED_BY_RESOURCEMANAGER = -106
    KILLED_AFTER_APP_COMPLETION = -107
    KILLED_BY_CONTAINER_SCHEDULER = -108
    KILLED_FOR_EXCESS_LOGS = -109


SUCCEEDED_MESSAGE: Final = "Completed successfully."
# From the NodeManager's diagnostics: "Current usage: 300 MB of 256 MB physical memory used"
_MEMORY_USE = re.compile(
    r"([\d.]+ ?[KMGTP]?B) of ([\d.]+ ?[KMGTP]?B) (physical|virtual) memory used"
)
_MEMORY_KINDS: Final = {
    ExitStatus.KILLED_EXCEEDED_PMEM: "physical",
    ExitStatus.KILLED_EXCEEDED_VMEM: "virtual",
}
_MAX_DIAGNOSTICS: Final = 2000
# A Java stack frame, e.g. "\tat org.apache.hadoop.fs.FSInputChecker.read(FSInputChecker.java:289)".
_STACK_FRAME = re.compile(r"\s*at [\w$.<>]+\(.*\)\s*")


def short_diagnostics(text: str) -> str:
    """YARN's diagnostics without Java stack frames and blank lines, at most 2000 characters.

    Example:
        >>> short_diagnostics("java.io.IOException: boom\\n\\tat a.b(C.java:1)\\n\\nmore")
        'java.io.IOException: boom\\nmore'
    """
    lines = [
        line.rstrip()
        for line in text.strip().splitlines()
        if line.strip() and not _STACK_FRAME.fullmatch(line)
    ]
    joined = "\n".join(lines)
    if len(joined) > _MAX_DIAGNOSTICS:
        joined = joined[: _MAX_DIAGNOSTICS - 3] + "..."
    return joined


def _memory_message(exit_status: int, diagnostics: str) -> str:
    wanted = _MEMORY_KINDS[ExitStatus(exit_status)]
    uses = {kind: (used, limit) for used, limit, kind in _MEMORY_USE.findall(diagnostics)}
    if wanted in uses:
        used, limit = uses[wanted]
        return (
            f"Killed by YARN for exceeding its memory limit "
            f"({used} of {limit} {wanted} memory used)."
        )
    return "Killed by YARN for exceeding its memory limit."


def describe_completion(exit_status: int, diagnostics: str = "") -> tuple[ContainerState, str]:
    """The final state and exit message of a container that completed on its own.

    Args:
        exit_status: the container's exit status.
        diagnostics: what YARN said about it.

    Returns:
        SUCCEEDED for exit status 0, else FAILED; and the exit message.

    Example:
        >>> describe_completion(0)
        (ContainerState.SUCCEEDED, 'Completed successfully.')
        >>> describe_completion(3)[1]
        'Container failed during execution (exit code 3), see logs for more information.'
        >>> describe_completion(-104, "Current usage: 300 MB of 256 MB physical memory used")[1]
        'Killed by YARN for exceeding its memory limit (300 MB of 256 MB physical memory used).'
    """
    if exit_status == ExitStatus.SUCCESS:
        return ContainerState.SUCCEEDED, SUCCEEDED_MESSAGE
    if exit_status in _MEMORY_KINDS:
        return ContainerState.FAILED, _memory_message(exit_status, diagnostics)
    if exit_status > 0:
        return ContainerState.FAILED, (
            f"Container failed during execution (exit code {exit_status}), "
            "see logs for more information."
        )
    reason = short_diagnostics(diagnostics)
    if exit_status == ExitStatus.PREEMPTED:
        reason = f"Preempted by YARN. {reason}".strip()
    if not reason:
        known = {status.value: status.name for status in ExitStatus}
        name = f" ({known[exit_status]})" if exit_status in known else ""
        reason = f"Container ended with YARN exit status {exit_status}{name}."
    return ContainerState.FAILED, reason
