"""Production settings (issue 14, item 8): a weak or empty ``ARREARS_SECRET_KEY`` is refused at
start-up in one line, ``arrears check --deploy`` is clean with ``ARREARS_DEBUG=0``, and a
proxy's headers are believed only when the proxy is trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from arrears.accounts.network import client_ip
from arrears.project.startup import (
    MIN_SECRET_KEY_LENGTH,
    MIN_SECRET_KEY_UNIQUE,
    SettingRefused,
    check_secret_key,
    weak_secret_key,
)
from tests.processes import REPO

#: A key like the one README tells operators to generate (fixed, so the test is repeatable).
STRONG_KEY = "Qv3n7dXw0Zr4T8s-bK1_mC6yL2pH9aJ5eF0gU7iO3oR8tY4uW1qE6zX2cV9bN5mA3s"
PRODUCTION = {
    "ARREARS_DEBUG": "0",
    "ARREARS_SECRET_KEY": STRONG_KEY,
    "ARREARS_ALLOWED_HOSTS": "arrears.example.com",
}


#: Set by the browser tests' modules for Playwright's event loop (pytest imports them all, so a
#: run that collects them has it); a deployment never has it, and ``check --deploy`` refuses it.
NOT_IN_PRODUCTION = {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}


def _env(extra: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ARREARS_") and k not in NOT_IN_PRODUCTION
        },
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "ARREARS_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


def _arrears(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arrears.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json, arrears.project.settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in dir(s) if k.isupper()}, default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_deploy_check_is_clean_in_production(tmp_path: Path) -> None:
    done = _arrears(_env(PRODUCTION, tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stderr and "security." not in done.stderr
    assert not (tmp_path / "data").exists()  # a check creates no database


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("x", "it has 1 characters"),
        ("k" * 60, "it uses 1 different characters"),
        ("dev-only-insecure-key-change-me", "it is a development key"),
        ("django-insecure-" + STRONG_KEY, "it is a development key"),
    ],
)
def test_a_weak_key_stops_start_up_with_one_line(key: str, reason: str, tmp_path: Path) -> None:
    done = _arrears(_env({**PRODUCTION, "ARREARS_SECRET_KEY": key}, tmp_path), "check")
    assert done.returncode == 1
    assert done.stderr.startswith("arrears: ARREARS_SECRET_KEY is refused")
    assert reason in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_unset_key_is_refused_too_and_the_wsgi_app_stops_in_one_line(tmp_path: Path) -> None:
    env = _env({"ARREARS_DEBUG": "0"}, tmp_path)
    assert "it is empty" in _arrears(env, "check").stderr
    done = subprocess.run(
        [sys.executable, "-c", "import arrears.project.wsgi"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if "ARREARS_SECRET_KEY" in line
    ]
    assert "Traceback" not in done.stderr


def test_debug_keeps_its_development_key_even_when_the_variable_is_empty(tmp_path: Path) -> None:
    debug = _settings(_env({"ARREARS_DEBUG": "1", "ARREARS_SECRET_KEY": ""}, tmp_path))
    assert str(debug["SECRET_KEY"]).startswith("dev-only")
    assert "SECURE_SSL_REDIRECT" not in debug  # local http works


@given(st.text(min_size=0, max_size=120))
def test_the_key_rule_is_djangos_w009(key: str) -> None:
    weak = (
        not key.strip()
        or key.startswith(("dev-only", "django-insecure-"))
        or len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE
    )
    assert (weak_secret_key(key) is not None) == weak
    if weak:
        with pytest.raises(SettingRefused, match="ARREARS_SECRET_KEY"):
            check_secret_key(key)
    else:
        check_secret_key(key)


def test_production_redirects_to_https_unless_a_proxy_does_it(tmp_path: Path) -> None:
    prod = _settings(_env(PRODUCTION, tmp_path))
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert sorted(prod["SILENCED_SYSTEM_CHECKS"]) == ["security.W005", "security.W021"]  # type: ignore[arg-type]
    assert prod["ARREARS_TRUST_PROXY"] is False
    assert prod["ARREARS_TRUST_X_FORWARDED_FOR"] is False
    assert "SECURE_PROXY_SSL_HEADER" not in prod
    opted_out = _settings(_env({**PRODUCTION, "ARREARS_SSL_REDIRECT": "0"}, tmp_path))
    assert opted_out["SECURE_SSL_REDIRECT"] is False
    assert "security.W008" in opted_out["SILENCED_SYSTEM_CHECKS"]  # type: ignore[operator]
    chosen = _settings(
        _env(
            {**PRODUCTION, "ARREARS_HSTS_INCLUDE_SUBDOMAINS": "1", "ARREARS_HSTS_PRELOAD": "1"},
            tmp_path,
        )
    )
    assert chosen["SILENCED_SYSTEM_CHECKS"] == []
    assert chosen["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and chosen["SECURE_HSTS_PRELOAD"]


def test_trust_proxy_turns_on_both_proxy_headers_and_the_fine_switches_still_win(
    tmp_path: Path,
) -> None:
    trusted = _settings(_env({**PRODUCTION, "ARREARS_TRUST_PROXY": "1"}, tmp_path))
    assert trusted["ARREARS_TRUST_X_FORWARDED_FOR"] is True
    assert trusted["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    only_tls = _settings(
        _env(
            {**PRODUCTION, "ARREARS_TRUST_PROXY": "1", "ARREARS_TRUST_X_FORWARDED_FOR": "0"},
            tmp_path,
        )
    )
    assert only_tls["ARREARS_TRUST_X_FORWARDED_FOR"] is False
    assert only_tls["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    only_for = _settings(_env({**PRODUCTION, "ARREARS_TRUST_X_FORWARDED_FOR": "1"}, tmp_path))
    assert only_for["ARREARS_TRUST_X_FORWARDED_FOR"] is True
    assert "SECURE_PROXY_SSL_HEADER" not in only_for


def _forwarded() -> object:
    return RequestFactory().get(
        "/",
        REMOTE_ADDR="10.0.0.1",
        # The client claimed 198.51.100.9; our proxy appended the address it saw.
        HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7",
        HTTP_X_FORWARDED_PROTO="https",
    )


def test_the_proxy_headers_are_honoured_only_when_trusted() -> None:
    with override_settings(ARREARS_TRUST_X_FORWARDED_FOR=False, SECURE_PROXY_SSL_HEADER=None):
        request = _forwarded()
        assert client_ip(request) == "10.0.0.1"
        assert request.is_secure() is False  # type: ignore[attr-defined]
    with override_settings(
        ARREARS_TRUST_X_FORWARDED_FOR=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ):
        request = _forwarded()
        assert client_ip(request) == "203.0.113.7"
        assert request.is_secure() is True  # type: ignore[attr-defined]
