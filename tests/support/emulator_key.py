"""Prints, as PEM, the private key the emulator (moto) signs its Cognito tokens with: the
local HTTP API's tests sign tokens of their own with it (expired, for another client, …) to
see the authorizer refuse them. moto ships the key as a JWK."""

from cryptography.hazmat.primitives import serialization
from joserfc import jwk
from moto.utilities.utils import load_resource

key = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
print(key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode(), end="")
