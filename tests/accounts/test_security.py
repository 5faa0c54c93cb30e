"""Sign-in security: Argon2, the lockout (by username and address), secure settings when
not in debug, and an audit entry per sign-in, sign-out and failed sign-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.models import User
from django.test import Client

from arrears.audit.models import AuditEntry
from tests.processes import REPO
from tests.roles import Role, client_for, make_user

PASSWORD = "correct horse battery"


def _sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> int:
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    return response.status_code


@pytest.fixture
def ann(db: None) -> User:
    user = make_user(Role.COLLECTOR, username="ann")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_argon2_hashes_new_passwords_in_production_settings(settings: object) -> None:
    """The project's setting (tests/conftest.py swaps in MD5 only for speed)."""
    from arrears.project import settings as project

    assert project.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = project.PASSWORD_HASHERS  # type: ignore[attr-defined]
    hashed = make_password("s3cret")
    assert identify_hasher(hashed).algorithm == "argon2"
    assert hashed.startswith("argon2$argon2id$")
    assert check_password("s3cret", hashed) and not check_password("s3crets", hashed)


def test_sign_in_and_out_work_and_are_audited_with_the_address(ann: User) -> None:
    client = Client()
    assert _sign_in(client, "ann", PASSWORD) == 302
    assert client.get("/queue/").status_code == 200
    client.post("/accounts/logout/", REMOTE_ADDR="10.0.0.1")
    assert client.get("/queue/").status_code == 302
    assert _sign_in(client, "ann", "wrong password", ip="10.0.0.2") == 200
    entries = {e.action: e for e in AuditEntry.objects.filter(subject_type="auth.User")}
    assert entries["login"].actor == "ann" and entries["login"].after == {"ip": "10.0.0.1"}
    assert entries["logout"].after == {"ip": "10.0.0.1"}
    assert entries["login.failed"].after == {"ip": "10.0.0.2"}
    text = json.dumps([e.record() for e in AuditEntry.objects.all()], ensure_ascii=False)
    assert "wrong password" not in text and PASSWORD not in text


def test_the_lockout_is_by_username_and_address(
    ann: User, settings: object, _frozen_clock: time_machine.Traveller
) -> None:
    settings.AXES_FAILURE_LIMIT = 3  # type: ignore[attr-defined]
    make_user(Role.COLLECTOR, username="bob").set_password(PASSWORD)
    bob = User.objects.get(username="bob")
    bob.set_password(PASSWORD)
    bob.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert [_sign_in(client, "ann", "guess") for _ in range(2)] == [200, 200]
    assert _sign_in(client, "ann", "guess") == 429  # the third failure locks the pair
    page = client.post(
        "/accounts/login/", {"username": "ann", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert page.status_code == 429  # even the right password, from there
    assert 'id="locked-out"' in page.content.decode()
    assert "Try again in 15 minutes" in page.content.decode()
    # ann from another address, and bob from the same one, are not locked out
    assert _sign_in(Client(), "ann", PASSWORD, ip="10.0.0.9") == 302
    assert _sign_in(Client(), "bob", PASSWORD, ip="10.0.0.1") == 302
    # after the cool-off the pair may try again
    _frozen_clock.shift(timedelta(minutes=16))
    assert _sign_in(Client(), "ann", PASSWORD, ip="10.0.0.1") == 302


def test_the_lockout_page_is_translated(ann: User, settings: object) -> None:
    settings.AXES_FAILURE_LIMIT = 1  # type: ignore[attr-defined]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post(
        "/accounts/login/", {"username": "ann", "password": "x"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429
    assert "登录已锁定" in response.content.decode()


def test_force_login_and_the_test_clients_login_are_not_throttled(ann: User) -> None:
    """No request, no lockout: code in the process is not someone guessing over the network."""
    client = Client()
    for _ in range(10):
        assert not client.login(username="ann", password="wrong")
    assert client.login(username="ann", password=PASSWORD)
    assert client_for(ann).get("/queue/").status_code == 200


def test_the_forwarded_address_is_believed_only_when_configured(
    ann: User, settings: object
) -> None:
    client = Client()
    client.post(
        "/accounts/login/",
        {"username": "ann", "password": "x"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.1",
    )
    settings.ARREARS_TRUST_X_FORWARDED_FOR = True  # type: ignore[attr-defined]
    client.post(
        "/accounts/login/",
        {"username": "ann", "password": "x"},
        REMOTE_ADDR="10.0.0.1",
        # The client sent its own header (198.51.100.9); the proxy appended what it saw.
        HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7",
    )
    seen = [e.after["ip"] for e in AuditEntry.objects.filter(action="login.failed")]
    assert seen == ["10.0.0.1", "203.0.113.7"]


def _settings_with(env: dict[str, str]) -> dict[str, object]:
    """The project's settings as a child process with ``env`` reads them."""
    code = (
        "import json, arrears.project.settings as s; print(json.dumps({k: getattr(s, k, None) "
        "for k in dir(s) if k.isupper()}, default=str))"
    )
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")},
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=full, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_settings_are_secure_when_not_in_debug() -> None:
    prod = _settings_with({"ARREARS_DEBUG": "0", "ARREARS_SECRET_KEY": "k" * 50 + "ey-0123"})
    assert prod["DEBUG"] is False
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SESSION_COOKIE_HTTPONLY"] is True
    assert prod["SESSION_COOKIE_SAMESITE"] == "Lax" and prod["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert prod["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert prod["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert prod["X_FRAME_OPTIONS"] == "DENY"
    assert prod["SESSION_COOKIE_AGE"] == 9 * 3600 and prod["SESSION_EXPIRE_AT_BROWSER_CLOSE"]
    assert prod.get("SECURE_PROXY_SSL_HEADER") is None  # opt in only
    assert prod["AXES_FAILURE_LIMIT"] == 5 and prod["AXES_COOLOFF_TIME"] == "0:15:00"
    behind = _settings_with(
        {
            "ARREARS_DEBUG": "0",
            "ARREARS_SECRET_KEY": "k" * 50 + "ey-0123",
            "ARREARS_BEHIND_TLS_PROXY": "1",
            "ARREARS_LOGIN_FAILURE_LIMIT": "8",
            "ARREARS_LOGIN_COOLOFF_MINUTES": "60",
            "ARREARS_SESSION_HOURS": "2",
        }
    )
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert behind["AXES_FAILURE_LIMIT"] == 8 and behind["AXES_COOLOFF_TIME"] == "1:00:00"
    assert behind["SESSION_COOKIE_AGE"] == 2 * 3600
    debug = _settings_with({"ARREARS_DEBUG": "1"})
    assert "SESSION_COOKIE_SECURE" not in debug  # Django's default (off): local http works
    assert "SESSION_COOKIE_AGE" not in debug  # Django's two weeks
    assert debug["X_FRAME_OPTIONS"] == "DENY"


def test_the_admin_lets_in_the_roles_that_work_there_without_the_staff_flag(db: None) -> None:
    lead = make_user(Role.TEAM_LEAD, username="lee")
    ann = make_user(Role.COLLECTOR, username="ann")
    for user in (lead, ann):
        user.set_password(PASSWORD)
        user.save()
    assert not lead.is_staff
    signed_in = Client()
    response = signed_in.post("/admin/login/", {"username": "lee", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in.get("/admin/collections/team/").status_code == 200
    refused = Client().post("/admin/login/", {"username": "ann", "password": PASSWORD})
    assert refused.status_code == 200 and "errornote" in refused.content.decode()


def test_the_lockout_can_be_switched_off(ann: User, settings: object) -> None:
    settings.AXES_FAILURE_LIMIT = 2  # type: ignore[attr-defined]
    settings.AXES_ENABLED = False  # type: ignore[attr-defined]  # ARREARS_LOGIN_LOCKOUT=0
    client = Client()
    assert [_sign_in(client, "ann", "guess") for _ in range(4)] == [200] * 4
    assert _sign_in(client, "ann", PASSWORD) == 302
