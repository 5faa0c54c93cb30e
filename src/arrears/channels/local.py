"""Channels that stay inside the system: the log channel and in-app messages.

The log channel is the default for every kind when no provider is configured (the demo, a
developer's machine, CI): nothing leaves, every message is kept in memory and, when
``ARREARS_CHANNEL_LOG`` names a file, appended to it as one JSON object per line so the web app
can show what *would* have been sent. It contains full message text and addresses — treat the
file as personal data.

In-app messages go to a *sink*, a callable supplied by the Django side that stores the message
in the borrower's portal inbox and returns its id. This package never imports Django; the sink
is how the two meet.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arrears.channels.base import OutboundMessage, SendResult, failed, retry, sent

#: How many messages the log channel keeps in memory (oldest dropped first).
MEMORY = 1000


def record(message: OutboundMessage, channel: str, at: datetime) -> dict[str, Any]:
    """The JSON shape of one logged message (also what ``read_log`` returns)."""
    return {
        "at": at.isoformat(),
        "channel": channel,
        "idempotency_key": message.idempotency_key,
        "to": message.to,
        "subject": message.subject,
        "body": message.body,
        "locale": message.locale,
        "sender_name": message.sender_name,
        "metadata": dict(message.metadata),
    }


class LogChannel:
    """Keeps messages in memory and optionally appends them to a JSON-lines file."""

    provider = "log"

    def __init__(
        self,
        name: str,
        path: str | Path | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.path = Path(path) if path else None
        self._clock = clock
        self._lock = threading.Lock()
        self._messages: deque[dict[str, Any]] = deque(maxlen=MEMORY)
        self._seen: set[str] = set()

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    def send(self, message: OutboundMessage) -> SendResult:
        ref = f"log:{message.idempotency_key}"
        entry = record(message, self.name, self._clock())
        with self._lock:
            if message.idempotency_key in self._seen:
                return sent(ref, "duplicate: already logged")
            if self.path is not None:
                line = json.dumps(entry, ensure_ascii=False) + "\n"
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    # one write on an O_APPEND descriptor: lines from several processes
                    # do not interleave
                    fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                    try:
                        os.write(fd, line.encode())
                    finally:
                        os.close(fd)
                except OSError as exc:
                    return retry(f"cannot append to {self.path}: {exc}")
            self._seen.add(message.idempotency_key)
            self._messages.append(entry)
        return sent(ref)


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """Every message in a log-channel file, oldest first (a damaged line is skipped)."""
    entries: list[dict[str, Any]] = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return entries
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


#: Stores one in-app message and returns its id (or None to use ``in_app:<key>``). Raise
#: ``LookupError``/``ValueError`` for a recipient that does not exist (permanent); any other
#: exception counts as transient (e.g. the database was briefly unavailable).
InAppSink = Callable[[OutboundMessage], "str | None"]


class InAppChannel:
    """In-app (portal inbox) messages through a sink supplied by the web side."""

    name = "in_app"
    provider = "sink"

    def __init__(self, sink: InAppSink) -> None:
        self._sink = sink

    def send(self, message: OutboundMessage) -> SendResult:
        try:
            ref = self._sink(message)
        except (LookupError, ValueError) as exc:
            return failed(f"in-app recipient refused: {exc}")
        except Exception as exc:  # the sink's storage failing is transient by contract
            return retry(f"in-app sink failed: {type(exc).__name__}: {exc}")
        return sent(ref or f"in_app:{message.idempotency_key}")
