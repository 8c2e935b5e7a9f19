"""SASL negotiation and DIGEST-MD5 (pure logic), against a sans-IO server side."""

from __future__ import annotations

import base64

import pytest

from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb
from skein.errors import AuthenticationError
from skein.hadoop.digest_md5 import DigestMD5Client, parse_challenge
from skein.hadoop.sasl import SaslNegotiation, TokenCredential
from skein.testing.rpc_server import DigestMD5Server

Sasl = rpc_pb.RpcSaslProto
TOKEN = TokenCredential(identifier=b"\x00\x01identifier", password=b"\xffpassword")


def token_auth(challenge: bytes | None = None) -> Sasl.SaslAuth:
    auth = Sasl.SaslAuth(method="TOKEN", mechanism="DIGEST-MD5", protocol="", serverId="default")
    if challenge is not None:
        auth.challenge = challenge
    return auth


def server() -> DigestMD5Server:
    return DigestMD5Server(
        base64.b64encode(TOKEN.identifier).decode(), base64.b64encode(TOKEN.password).decode()
    )


def test_rfc_2831_worked_example() -> None:
    client = DigestMD5Client(
        "chris", "secret", "imap/elwood.innosoft.com", cnonce=lambda: "OA6MHXh6VqTrRk"
    )
    reply = parse_challenge(
        client.respond(
            b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",'
            b"algorithm=md5-sess,charset=utf-8"
        )
    )
    assert reply["response"] == "d388dad90d4bbd760a152321f2143af7"
    assert reply["digest-uri"] == "imap/elwood.innosoft.com"
    assert reply["nc"] == "00000001"
    client.verify(b"rspauth=ea40f60335c427b5527b84dbabcdfffd")
    with pytest.raises(AuthenticationError, match="rspauth does not match"):
        client.verify(b"rspauth=00000000000000000000000000000000")


def test_challenge_parsing_handles_quotes_and_escapes() -> None:
    assert parse_challenge(b'a="x,y", b=plain ,c="q\\"uote"') == {
        "a": "x,y",
        "b": "plain",
        "c": 'q"uote',
    }
    with pytest.raises(AuthenticationError, match="malformed"):
        parse_challenge(b"=oops")


def test_only_auth_protection_is_supported() -> None:
    client = DigestMD5Client("u", "p", "/default")
    with pytest.raises(AuthenticationError, match="requires SASL protection auth-conf"):
        client.respond(b'nonce="n",qop="auth-conf"')


def test_token_with_early_challenge_in_the_offer() -> None:
    digest = server()
    negotiation = SaslNegotiation(TOKEN, allow_simple=False)
    assert negotiation.start().state == Sasl.NEGOTIATE
    offer = Sasl(state=Sasl.NEGOTIATE, auths=[token_auth(digest.challenge())])
    initiate = negotiation.receive(offer)
    assert initiate is not None
    assert initiate.state == Sasl.INITIATE
    (chosen,) = initiate.auths
    assert (chosen.method, chosen.mechanism, chosen.serverId) == ("TOKEN", "DIGEST-MD5", "default")
    assert not chosen.HasField("challenge")
    assert parse_challenge(initiate.token)["digest-uri"] == "/default"
    rspauth = digest.verify(initiate.token)
    assert rspauth is not None
    assert negotiation.receive(Sasl(state=Sasl.SUCCESS, token=rspauth)) is None
    assert negotiation.done
    assert negotiation.method == "TOKEN"


def test_token_with_a_challenge_round() -> None:
    digest = server()
    negotiation = SaslNegotiation(TOKEN)
    initiate = negotiation.receive(Sasl(state=Sasl.NEGOTIATE, auths=[token_auth()]))
    assert initiate is not None
    assert not initiate.HasField("token")
    response = negotiation.receive(Sasl(state=Sasl.CHALLENGE, token=digest.challenge()))
    assert response is not None
    assert response.state == Sasl.RESPONSE
    rspauth = digest.verify(response.token)
    assert rspauth is not None
    negotiation.receive(Sasl(state=Sasl.SUCCESS, token=rspauth))
    assert negotiation.done


def test_wrong_password_does_not_verify() -> None:
    digest = DigestMD5Server(base64.b64encode(TOKEN.identifier).decode(), "other")
    negotiation = SaslNegotiation(TOKEN)
    initiate = negotiation.receive(
        Sasl(state=Sasl.NEGOTIATE, auths=[token_auth(digest.challenge())])
    )
    assert initiate is not None
    assert digest.verify(initiate.token) is None


def test_simple_only_server_answers_success_at_once() -> None:
    negotiation = SaslNegotiation()
    assert negotiation.receive(Sasl(state=Sasl.SUCCESS)) is None
    assert negotiation.done
    assert negotiation.method == "SIMPLE"
    strict = SaslNegotiation(TOKEN, allow_simple=False)
    with pytest.raises(AuthenticationError, match="only SIMPLE"):
        strict.receive(Sasl(state=Sasl.SUCCESS))


def test_simple_chosen_without_a_token() -> None:
    negotiation = SaslNegotiation()
    offer = Sasl(
        state=Sasl.NEGOTIATE, auths=[token_auth(), Sasl.SaslAuth(method="SIMPLE", mechanism="")]
    )
    reply = negotiation.receive(offer)
    assert reply is not None
    assert reply.auths[0].method == "SIMPLE"
    assert negotiation.done
    assert negotiation.method == "SIMPLE"


def test_kerberos_only_is_reported_as_not_supported_yet() -> None:
    offer = Sasl(
        state=Sasl.NEGOTIATE,
        auths=[Sasl.SaslAuth(method="KERBEROS", mechanism="GSSAPI", protocol="rm", serverId="h")],
    )
    with pytest.raises(AuthenticationError, match=r"Kerberos .* not supported yet"):
        SaslNegotiation(TOKEN).receive(offer)


def test_token_required_but_missing() -> None:
    with pytest.raises(AuthenticationError, match="no usable SASL method among \\['TOKEN'\\]"):
        SaslNegotiation(None, allow_simple=True).receive(
            Sasl(state=Sasl.NEGOTIATE, auths=[token_auth()])
        )


def test_messages_after_success_are_refused() -> None:
    negotiation = SaslNegotiation()
    negotiation.receive(Sasl(state=Sasl.SUCCESS))
    with pytest.raises(AuthenticationError, match="after negotiation finished"):
        negotiation.receive(Sasl(state=Sasl.CHALLENGE))
