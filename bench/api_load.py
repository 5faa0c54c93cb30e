"""Benchmark: the integrators' API under load on PostgreSQL — payments intake and the queue page.

Run: ``DATABASE_URL=postgresql://postgres@127.0.0.1:5432/NAME PYTHONPATH=src:.
.venv/bin/python bench/api_load.py --duration 30``. The bench owns database ``NAME_load``
(dropped and rebuilt each run). It migrates it, seeds ``--loans`` loans with one open case
each (all in one collector's queue), creates an integration key, starts gunicorn
(``--workers`` sync workers, 127.0.0.1 only, ``ARREARS_DEBUG=0``) and drives it for
``--duration`` seconds from ``--clients`` threads (httpx, keep-alive):

* ``pay``: a new payment (a fresh reference) — ``POST /api/v1/payments``;
* ``replay``: the same body as a payment already sent — must answer the stored 201;
* ``queue``: the collector's queue page (``GET /queue/``, a logged-in session).

It prints requests per second sustained over the run and p50/p99 latency per kind, then checks
the database: every reference the server acknowledged (201) is exactly one payment with its
amount (none lost), no reference is recorded twice and nothing unacknowledged beyond requests
cut off at the deadline (none duplicated), and every replay got the first answer. Exit status
1 if any check fails or any 5xx was seen. A locust equivalent in the standard library and
httpx (both already dependencies): no gevent monkey-patching inside a Django process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pgdb  # bench/pgdb.py: the scripts run from bench/, which is on sys.path

ROOT = Path(__file__).resolve().parents[1]
VALUE_DATE = date(2026, 11, 20)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (≤ 300)")
    parser.add_argument("--loans", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--replay-share", type=float, default=0.25)
    parser.add_argument("--queue-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    options.duration = min(max(options.duration, 1.0), 300.0)
    return options


# --- database -------------------------------------------------------------------------------


def _bench_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("api_load: set DATABASE_URL to a PostgreSQL database (postgresql://…/NAME)")
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "arrears"
    return urlunparse(parts._replace(path=f"/{name}_load"))


def _seed(loans: int) -> dict[str, Any]:
    """Migrate, then a product, ``loans`` borrowers with a loan and an open case each in one
    collector's queue, an integration key and a logged-in session for that collector."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from arrears.api import access
    from arrears.collections import strategies
    from arrears.collections.models import Case, Collector, Team
    from arrears.ledger import services
    from tests import factories

    call_command("migrate", verbosity=0)
    # Publish the shipped strategy now, as a deployment's first day run would: published lazily
    # by the first payments' re-evaluation, two workers race to create the same version.
    strategies.active()
    product = factories.product()
    user = get_user_model().objects.create_user("bench", password="x")
    team = Team.objects.create(code="T1", name="Team 1", owner="early")
    collector = Collector.objects.create(user=user, team=team, capacity=loans + 10)
    refs = []
    for n in range(loans):
        owner = services.create_borrower(
            ref=f"B{n:06d}",
            name="Bench",
            id_type="cn_ric",
            national_id=factories.valid_ric(),
            time_zone="Asia/Shanghai",
        )
        services.add_phone(borrower=owner, number=f"+86138{n:08d}")
        loan = factories.loan(f"L{n:06d}", owner, product, start=date(2026, 6, 15))
        Case.objects.create(
            borrower=owner,
            currency="CNY",
            opened_on=date(2026, 8, 1),
            stage="early",
            owner="early",
            collector=collector,
            priority=n,
        )
        refs.append(loan.ref)
    key = access.create_token(
        access.integration("bench"), ["payments:write"], rate_limit=access.MAX_RATE_LIMIT
    )
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return {"loans": refs, "key": key, "session": session.session_key}


# --- server ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "arrears.project.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2).is_success:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            sys.exit("api_load: gunicorn exited at start")
        time.sleep(0.3)
    _stop(server)
    sys.exit("api_load: gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- load -----------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    #: reference → (amount, the first 201 body) of payments the server acknowledged
    acknowledged: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    replay_mismatches: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client_loop(
    number: int,
    base: str,
    seeded: dict[str, Any],
    options: argparse.Namespace,
    stop: float,
    tally: Tally,
) -> None:
    import httpx

    rng = random.Random(options.seed * 1000 + number)
    headers = {"Authorization": f"Bearer {seeded['key']}", "Accept-Language": "en"}
    cookies = {"sessionid": seeded["session"]}
    mine: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (body, first answer)
    serial = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        while time.monotonic() < stop:
            roll = rng.random()
            if roll < options.queue_share:
                kind = "queue"
                started = time.perf_counter()
                try:
                    response = client.get("/queue/", cookies=cookies)
                except httpx.HTTPError:
                    with tally.lock:
                        tally.errors += 1
                    continue
                elapsed = time.perf_counter() - started
                ok = response.status_code == 200 and b"Bench</td>" in response.content
                with tally.lock:
                    tally.latencies[kind].append(elapsed)
                    tally.statuses[kind][response.status_code if ok else 599] += 1
                continue
            if mine and roll < options.queue_share + options.replay_share:
                kind = "replay"
                body, first = rng.choice(mine)
            else:
                kind = "pay"
                serial += 1
                body = {
                    "reference": f"C{number:02d}-{serial:07d}",
                    "loan": rng.choice(seeded["loans"]),
                    "value_date": VALUE_DATE.isoformat(),
                    "amount_minor": rng.randint(100, 5_000),
                    "currency": "CNY",
                }
                first = {}
                with tally.lock:
                    tally.sent.add(body["reference"])
            started = time.perf_counter()
            try:
                response = client.post("/api/v1/payments", json=body, headers=headers)
            except httpx.HTTPError:
                with tally.lock:
                    tally.errors += 1
                continue
            elapsed = time.perf_counter() - started
            try:
                answer = response.json()
            except ValueError:  # a 500 page, say
                answer = {}
            with tally.lock:
                tally.latencies[kind].append(elapsed)
                tally.statuses[kind][response.status_code] += 1
                if kind == "pay" and response.status_code == 201:
                    tally.acknowledged[body["reference"]] = (body["amount_minor"], answer)
                    mine.append((body, answer))
                if kind == "replay" and (response.status_code != 201 or answer != first):
                    tally.replay_mismatches += 1


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _verify(tally: Tally) -> list[str]:
    """Lost or duplicated payments, checked against the database."""
    from django.db import connection
    from django.db.models import Count

    from arrears.api.models import IdempotentRequest
    from arrears.ledger.models import Payment

    connection.close()
    problems = []
    recorded = dict(Payment.objects.filter(source="api:bench").values_list("ref", "amount_minor"))
    lost = [ref for ref, (amount, _) in tally.acknowledged.items() if recorded.get(ref) != amount]
    if lost:
        problems.append(f"{len(lost)} acknowledged payment(s) missing or wrong: {lost[:5]}")
    unknown = set(recorded) - tally.sent
    if unknown:
        problems.append(f"{len(unknown)} payment(s) nobody sent: {sorted(unknown)[:5]}")
    unacknowledged = set(recorded) - set(tally.acknowledged)
    if len(unacknowledged) > tally.errors:
        problems.append(f"{len(unacknowledged)} recorded without an acknowledgement")
    doubled = (
        IdempotentRequest.objects.values("integration", "kind", "reference")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if doubled:
        problems.append(f"{doubled} reference(s) with two idempotency records")
    if tally.replay_mismatches:
        problems.append(f"{tally.replay_mismatches} replay(s) not answered with the first answer")
    return problems


def main() -> None:
    options = _options()
    url = _bench_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "arrears.project.settings",
        "ARREARS_DEBUG": "0",
        "ARREARS_SECRET_KEY": "bench-only-" + "x" * 40,
        "ARREARS_SSL_REDIRECT": "0",  # plain http on 127.0.0.1
        "ARREARS_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    os.environ.update(env)
    print(f"database {urlparse(url).path.lstrip('/')}: migrating and seeding {options.loans} loans")
    started = time.perf_counter()
    pgdb.recreate(url)
    seeded = _seed(options.loans)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    print(f"seeded in {time.perf_counter() - started:.1f} s")
    port = _free_port()
    server = _start(port, options.workers, env)
    tally = Tally()
    try:
        begin = time.monotonic()
        stop = begin + options.duration
        threads = [
            threading.Thread(
                target=_client_loop,
                args=(n, f"http://127.0.0.1:{port}", seeded, options, stop, tally),
            )
            for n in range(options.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - begin
    finally:
        _stop(server)
    total = sum(len(v) for v in tally.latencies.values())
    print(
        f"{options.clients} clients, {options.workers} gunicorn workers, {elapsed:.1f} s: "
        f"{total} requests, {total / elapsed:.1f} req/s sustained, {tally.errors} transport errors"
    )
    print(f"{'kind':<8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for kind in ("pay", "replay", "queue"):
        values = tally.latencies.get(kind, [])
        statuses = json.dumps(dict(sorted(tally.statuses[kind].items())))
        print(
            f"{kind:<8}{len(values):>10}{len(values) / elapsed:>9.1f}"
            f"{_percentile(values, 0.5) * 1000:>9.1f}{_percentile(values, 0.99) * 1000:>9.1f}"
            f"  {statuses}"
        )
    every = [v for values in tally.latencies.values() for v in values]
    if every:
        print(
            f"all     p50 {statistics.median(every) * 1000:.1f} ms, "
            f"p99 {_percentile(every, 0.99) * 1000:.1f} ms"
        )
    problems = _verify(tally)
    server_errors = sum(n for k in tally.statuses.values() for s, n in k.items() if s >= 500)
    if server_errors:
        problems.append(f"{server_errors} answer(s) with a 5xx (599: queue page not rendered)")
    print(
        f"payments acknowledged {len(tally.acknowledged)}, "
        f"replays {len(tally.latencies.get('replay', []))}: "
        + ("zero lost, zero duplicated" if not problems else "; ".join(problems))
    )
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
