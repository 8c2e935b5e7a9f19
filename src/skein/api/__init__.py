"""The application master's gRPC API: transport, TLS, error mapping and the services behind it.

Clients and the master talk gRPC (``skein/_proto/api/skein.proto``) through
grpclib, over mutual TLS with the application's one self-signed certificate.
:mod:`skein.api.status` maps grpclib's and the network's errors to
:mod:`skein.errors`; :mod:`skein.api.tls` builds the TLS contexts;
:mod:`skein.api.server` and :mod:`skein.api.channel` open the two ends.
"""
