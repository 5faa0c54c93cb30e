"""Request signatures of the providers, written from their published specifications.

Kept apart from the adapters so the arithmetic can be checked on its own against the example
vectors the providers publish (tests/channels/test_signing.py), and so the receipt verifier uses
the very same code as the sender.

* Aliyun RPC signature v1 (HMAC-SHA1): ``StringToSign = METHOD & %2F & enc(canonical query)``,
  where ``enc`` is RFC 3986 percent-encoding with upper-case hex (space → ``%20``, ``*`` →
  ``%2A``, ``~`` left alone) and the canonical query is every parameter but ``Signature``,
  sorted by name, each name and value encoded. Key: ``AccessKeySecret + "&"``.
* Tencent Cloud API 3.0, TC3-HMAC-SHA256: canonical request → string to sign with the
  credential scope ``date/service/tc3_request`` (UTC date of the timestamp) → key derived by
  chaining HMAC-SHA256 over ``"TC3" + SecretKey``, date, service, ``tc3_request``.
* Twilio X-Twilio-Signature: HMAC-SHA1 with the auth token over the full URL followed by every
  POST parameter's name and value, sorted, base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

# --- Aliyun (Alibaba Cloud) RPC, signature version 1.0 ------------------------------------------


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 bytes: only ``A-Z a-z 0-9 - _ . ~`` stay as they are."""
    return quote(value, safe="-_.~")


def aliyun_canonical_query(params: Mapping[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in pairs)


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return (
        f"{method.upper()}&{aliyun_percent_encode('/')}&"
        f"{aliyun_percent_encode(aliyun_canonical_query(params))}"
    )


def aliyun_signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Base64 HMAC-SHA1 of the string to sign, keyed with ``secret + "&"``."""
    digest = hmac.new(
        (access_key_secret + "&").encode(),
        aliyun_string_to_sign(method, params).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode()


def aliyun_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, as the API wants it: ``2017-05-25T12:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Tencent Cloud API 3.0, TC3-HMAC-SHA256 -------------------------------------------------------

TC3_ALGORITHM = "TC3-HMAC-SHA256"


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_canonical_request(
    method: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
    canonical_uri: str = "/",
    canonical_query: str = "",
) -> str:
    """Headers named in ``signed_headers`` (any case), lower-cased name and value, sorted."""
    lowered = {k.lower(): v for k, v in headers.items()}
    names = sorted(h.lower() for h in signed_headers)
    canonical_headers = "".join(f"{n}:{lowered[n].strip().lower()}\n" for n in names)
    return "\n".join(
        [
            method.upper(),
            canonical_uri,
            canonical_query,
            canonical_headers,
            ";".join(names),
            _sha256_hex(payload),
        ]
    )


def tc3_date(timestamp: int) -> str:
    """The credential-scope date is the *UTC* date of the timestamp (not local time)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def tc3_string_to_sign(timestamp: int, service: str, canonical_request: str) -> str:
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    return "\n".join(
        [TC3_ALGORITHM, str(timestamp), scope, _sha256_hex(canonical_request.encode())]
    )


def tc3_signature(secret_key: str, timestamp: int, service: str, string_to_sign: str) -> str:
    secret_date = _hmac256(("TC3" + secret_key).encode(), tc3_date(timestamp))
    secret_service = _hmac256(secret_date, service)
    secret_signing = _hmac256(secret_service, "tc3_request")
    return hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    method: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
) -> str:
    """The complete ``Authorization`` header value."""
    canonical = tc3_canonical_request(method, headers, signed_headers, payload)
    signature = tc3_signature(
        secret_key, timestamp, service, tc3_string_to_sign(timestamp, service, canonical)
    )
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    names = ";".join(sorted(h.lower() for h in signed_headers))
    return (
        f"{TC3_ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )


# --- Twilio request signature -----------------------------------------------------------------

Params = Mapping[str, str] | Iterable[tuple[str, str]]


def param_pairs(params: Params) -> list[tuple[str, str]]:
    """Pairs from a mapping or from (name, value) pairs (repeated names allowed)."""
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


def twilio_signature(url: str, params: Params, auth_token: str) -> str:
    """Base64 HMAC-SHA1 of ``url + name1 + value1 + …`` over the sorted POST parameters.

    A repeated name contributes each of its values, in sorted order, as Twilio's own
    validators do.
    """
    data = url + "".join(k + v for k, v in sorted(param_pairs(params)))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
