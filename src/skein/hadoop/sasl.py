"""SASL negotiation inside Hadoop IPC, without I/O.

Theory of operation. The client sends NEGOTIATE; the server answers with the
methods it accepts (``auths``), or straight away with SUCCESS when it only does
SIMPLE. The client picks one it can serve and sends INITIATE with that auth and
its first response. The server then sends CHALLENGEs (the client answers each
with a RESPONSE) and finally SUCCESS, whose token the client checks. Choosing
SIMPLE means "no SASL after all": the client sends INITIATE and does not wait.

:class:`SaslNegotiation` takes the server's messages and returns the next
message to send, until :attr:`SaslNegotiation.done`.
"""

from __future__ import annotations

from dataclasses import dataclass

from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb
from skein.errors import AuthenticationError
from skein.hadoop.digest_md5 import DigestMD5Client

__all__ = ["SaslNegotiation", "TokenCredential"]

SaslState = rpc_pb.RpcSaslProto


@dataclass(frozen=True, slots=True)
class TokenCredential:
    """The identifier and password of a Hadoop token, for TOKEN (DIGEST-MD5) auth."""

    identifier: bytes
    password: bytes


class SaslNegotiation:
    """The client's side of one SASL negotiation.

    Args:
        token: a token to authenticate with, if the server offers TOKEN.
        allow_simple: whether SIMPLE is acceptable if the server offers it.

    Attributes:
        method: the method finally used (``SIMPLE``, ``TOKEN``), once chosen.
        done: whether negotiation is over (success; failures raise).
    """

    def __init__(self, token: TokenCredential | None = None, *, allow_simple: bool = True) -> None:
        self.token = token
        self.allow_simple = allow_simple
        self.method: str | None = None
        self.done = False
        self._digest: DigestMD5Client | None = None

    def start(self) -> rpc_pb.RpcSaslProto:
        """The first message: NEGOTIATE."""
        return rpc_pb.RpcSaslProto(state=SaslState.NEGOTIATE)

    def receive(self, message: rpc_pb.RpcSaslProto) -> rpc_pb.RpcSaslProto | None:
        """Take the server's message; return the reply to send, if any.

        Raises:
            AuthenticationError: no offered method can be used, or the exchange failed.
        """
        if self.done:
            raise AuthenticationError("SASL message received after negotiation finished")
        state = message.state
        if state == SaslState.NEGOTIATE:
            return self._choose(message)
        if state == SaslState.CHALLENGE:
            if self._digest is None:
                raise AuthenticationError("SASL CHALLENGE before a mechanism was chosen")
            return rpc_pb.RpcSaslProto(
                state=SaslState.RESPONSE, token=self._digest.respond(message.token)
            )
        if state == SaslState.SUCCESS:
            if self._digest is not None:
                self._digest.verify(message.token)
            elif self.method is None:
                # A SIMPLE-only server answers NEGOTIATE with SUCCESS at once.
                if not self.allow_simple:
                    raise AuthenticationError("the server offers only SIMPLE authentication")
                self.method = "SIMPLE"
            self.done = True
            return None
        raise AuthenticationError(f"unexpected SASL state {SaslState.SaslState.Name(state)}")

    def _choose(self, offer: rpc_pb.RpcSaslProto) -> rpc_pb.RpcSaslProto | None:
        offered = [auth.method for auth in offer.auths]
        for auth in offer.auths:
            if auth.method == "TOKEN" and self.token is not None:
                if auth.mechanism != "DIGEST-MD5":
                    continue
                self.method = "TOKEN"
                self._digest = DigestMD5Client.for_token(
                    self.token.identifier, self.token.password, auth.protocol, auth.serverId
                )
                chosen = rpc_pb.RpcSaslProto.SaslAuth()
                chosen.CopyFrom(auth)
                chosen.ClearField("challenge")
                reply = rpc_pb.RpcSaslProto(state=SaslState.INITIATE, auths=[chosen])
                # The server may send its first challenge with the offer.
                if auth.HasField("challenge"):
                    reply.token = self._digest.respond(auth.challenge)
                return reply
            if auth.method == "SIMPLE" and self.allow_simple:
                self.method = "SIMPLE"
                self.done = True  # the server expects no further SASL exchange
                chosen = rpc_pb.RpcSaslProto.SaslAuth(method="SIMPLE", mechanism="")
                return rpc_pb.RpcSaslProto(state=SaslState.INITIATE, auths=[chosen])
        if "KERBEROS" in offered:
            raise AuthenticationError(
                f"the server requires one of {offered}; Kerberos (GSSAPI) is not supported yet"
            )
        have = "a token" if self.token else "no token"
        raise AuthenticationError(f"no usable SASL method among {offered} (the client has {have})")
