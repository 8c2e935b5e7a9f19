"""What YARN's token identifiers say: whose token, for which attempt or node.

YARN's identifiers are protobuf messages (``yarn_security_token.proto``)
serialized without a length prefix, unlike Hadoop Common's Writable ones
(:func:`skein.hadoop.credentials.decode_delegation_token_identifier`).
"""

from __future__ import annotations

from google.protobuf.message import DecodeError as ProtobufDecodeError

from skein._proto.yarn import yarn_security_token_pb2 as token_pb
from skein.errors import DecodeError
from skein.hadoop.credentials import DelegationTokenIdentifier
from skein.yarn.ids import ApplicationAttemptId

__all__ = ["am_rm_token_attempt", "decode_rm_delegation_token_identifier"]


def decode_rm_delegation_token_identifier(identifier: bytes) -> DelegationTokenIdentifier:
    """Decode the identifier of a ResourceManager delegation token (``RM_DELEGATION_TOKEN``).

    Raises:
        DecodeError: the bytes are not such an identifier.
    """
    try:
        message = token_pb.YARNDelegationTokenIdentifierProto.FromString(identifier)
    except ProtobufDecodeError as exc:
        raise DecodeError(f"not an RM delegation token identifier: {exc}") from exc
    return DelegationTokenIdentifier(
        owner=message.owner,
        renewer=message.renewer,
        real_user=message.realUser,
        issue_date=message.issueDate,
        max_date=message.maxDate,
        sequence_number=message.sequenceNumber,
        master_key_id=message.masterKeyId,
    )


def am_rm_token_attempt(identifier: bytes) -> ApplicationAttemptId:
    """The application attempt an AMRMToken (``YARN_AM_RM_TOKEN``) belongs to.

    Raises:
        DecodeError: the bytes are not an AMRMToken identifier.
    """
    try:
        message = token_pb.AMRMTokenIdentifierProto.FromString(identifier)
    except ProtobufDecodeError as exc:
        raise DecodeError(f"not an AMRMToken identifier: {exc}") from exc
    if not message.HasField("appAttemptId"):
        raise DecodeError("an AMRMToken identifier without an attempt id")
    return ApplicationAttemptId.from_proto(message.appAttemptId)
