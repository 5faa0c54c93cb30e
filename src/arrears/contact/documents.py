"""Finished documents that travel with an outbox message (a lawyer's letter PDF).

Most messages are text decided at dispatch. Some are documents made earlier and fingerprinted
then — a lawyer's letter is issued on its letter date, with a verification code and a SHA-256
recorded on the case — and the message must carry *that* document, not a new rendering. The app
that owns such documents registers a provider here (from its ``AppConfig.ready()``); the
renderer asks the providers for each message and, when one answers, renders the text with the
document's own values (the issuing law firm) and hands the document to the channel as an
attachment. The contact app therefore never imports the apps that make documents.

A provider that finds the document damaged (its bytes no longer match the recorded SHA-256)
raises an ``ArrearsError``: the dispatcher then fails that message with the reason instead of
sending something other than what was issued.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arrears.contact.models import OutboxMessage


@dataclass(frozen=True)
class Document:
    """What a message carries besides its text.

    ``variables`` are template values the document fixes (e.g. ``law_firm``); ``template_channel``
    is the channel whose template supplies the text when the message goes by another one (a
    letter sent by email keeps the letter's wording).
    """

    content: bytes
    name: str
    variables: Mapping[str, str] = field(default_factory=dict)
    template_channel: str = ""


Provider = Callable[["OutboxMessage"], Document | None]

_PROVIDERS: dict[str, Provider | str] = {}


def register(name: str, provider: Provider | str) -> None:
    """Add (or replace, by name) a provider: it returns the message's document or ``None``.
    ``provider`` may be its dotted path, imported when a message is first dispatched, not at
    start-up (a letter provider brings the PDF stack)."""
    _PROVIDERS[name] = provider


def _provider(name: str) -> Provider:
    provider = _PROVIDERS[name]
    if isinstance(provider, str):
        module, _, attribute = provider.rpartition(".")
        provider = _PROVIDERS[name] = getattr(import_module(module), attribute)
    return provider


def for_message(message: OutboxMessage) -> Document | None:
    """The first document a provider gives for ``message``, or ``None`` (plain text)."""
    for name in sorted(_PROVIDERS):
        found = _provider(name)(message)
        if found is not None:
            return found
    return None
