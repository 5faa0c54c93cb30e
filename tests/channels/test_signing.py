"""The signature code against the example vectors the providers publish."""

from __future__ import annotations

import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from arrears.channels.signing import (
    aliyun_percent_encode,
    aliyun_signature,
    aliyun_string_to_sign,
    tc3_authorization,
    tc3_canonical_request,
    tc3_signature,
    tc3_string_to_sign,
    twilio_signature,
)

# --- Aliyun RPC v1 --------------------------------------------------------------------------------

# Alibaba Cloud, "Signature mechanism" (RPC APIs), worked example: DescribeRegions signed with
# AccessKey testid / testsecret. The published value CT9X0VtwR86fNWSnsc6v8YGOjuE= is for the
# parameter spelt "TimeStamp" (the older text); the same example with the current "Timestamp"
# spelling gives OLeaidS1JvxuMvnyHOwuJ+uX5qY=, as in the ECS documentation of the same example.
DESCRIBE_REGIONS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Version": "2014-05-26",
}


def test_aliyun_published_example_signature() -> None:
    old = {**DESCRIBE_REGIONS, "TimeStamp": "2016-02-23T12:46:24Z"}
    new = {**DESCRIBE_REGIONS, "Timestamp": "2016-02-23T12:46:24Z"}
    assert aliyun_signature("GET", old, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="
    assert aliyun_signature("GET", new, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_string_to_sign_matches_the_sms_documentation() -> None:
    # Alibaba Cloud SMS (international) "Signature method", sample request SendMessageToGlobe:
    # the string to sign is printed in full; "*" must become %2A and ":" %3A, each encoded
    # twice (once in the canonical query, once in the string to sign).
    params = {
        "AccessKeyId": "testid",
        "Action": "SendMessageToGlobe",
        "Format": "XML",
        "From": "Alicloud",
        "Message": "Hello",
        "RegionId": "ap-southeast-1",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "57acef20-c1d8-11eb-8c08-db81fda24dcc",
        "SignatureVersion": "1.0",
        "Timestamp": "2021-05-31T06:20:49Z",
        "To": "861245567****",
        "Version": "2018-05-01",
    }
    assert aliyun_string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DSendMessageToGlobe%26Format%3DXML"
        "%26From%3DAlicloud%26Message%3DHello%26RegionId%3Dap-southeast-1"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D57acef20-c1d8-11eb-8c08-db81fda24dcc"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2021-05-31T06%253A20%253A49Z"
        "%26To%3D861245567%252A%252A%252A%252A%26Version%3D2018-05-01"
    )


def test_aliyun_signature_ignores_a_signature_parameter_and_encodes_utf8() -> None:
    params = {"SignName": "阿里云短信测试", "A": "x y*~"}
    assert aliyun_signature("POST", {**params, "Signature": "zzz"}, "s") == aliyun_signature(
        "POST", params, "s"
    )
    assert "A%3Dx%2520y%252A~" in aliyun_string_to_sign("POST", params)
    assert "%25E9%2598%25BF" in aliyun_string_to_sign("POST", params)  # 阿 = E9 98 BF


@given(st.text())
def test_aliyun_percent_encoding_is_rfc3986_and_reversible(value: str) -> None:
    encoded = aliyun_percent_encode(value)
    assert re.fullmatch(r"(?:[A-Za-z0-9\-_.~]|%[0-9A-F]{2})*", encoded)
    assert unquote(encoded) == value


# --- Tencent TC3-HMAC-SHA256 ----------------------------------------------------------------------

# Tencent Cloud API 3.0, "Signature v3", worked example: CVM DescribeInstances, POST JSON,
# SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, X-TC-Timestamp 1551113065.
TC3_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
TC3_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Host": "cvm.tencentcloudapi.com",
}


def test_tencent_published_example() -> None:
    canonical = tc3_canonical_request("POST", TC3_HEADERS, ["content-type", "host"], TC3_PAYLOAD)
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
        "\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    to_sign = tc3_string_to_sign(1551113065, "cvm", canonical)
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert (
        tc3_signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", 1551113065, "cvm", to_sign)
        == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )
    assert tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "cvm",
        1551113065,
        "POST",
        TC3_HEADERS,
        ["host", "content-type"],
        TC3_PAYLOAD,
    ) == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_tencent_scope_date_is_the_utc_date() -> None:
    # 2019-02-26 00:44:25 in Beijing is still 2019-02-25 in UTC: the scope says the 25th.
    assert "\n2019-02-25/sms/tc3_request\n" in tc3_string_to_sign(1551113065, "sms", "x")


# --- Twilio -------------------------------------------------------------------------------------

# Twilio's request-validation example (twilio-python tests/unit/test_request_validator.py).
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_twilio_published_example() -> None:
    assert twilio_signature(TWILIO_URL, TWILIO_PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_repeated_parameters_sort_by_value() -> None:
    pairs = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio_signature(TWILIO_URL, pairs, "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@given(st.permutations(list(TWILIO_PARAMS.items())))
def test_twilio_signature_does_not_depend_on_parameter_order(
    pairs: list[tuple[str, str]],
) -> None:
    assert twilio_signature(TWILIO_URL, pairs, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
