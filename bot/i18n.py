"""The text catalogue: every sentence a member reads, keyed by message id, in ``bot/locales/<locale>/*.ftl``.

Decision: Project Fluent (``fluent.runtime``) rather than gettext. A gettext catalogue is keyed by the
English sentence, so fixing a typo in English orphans every translation, and its placeholders are
positional printf fragments that translators must keep in order. Fluent keys each message by a stable id
(``quota-window``), passes named arguments (``{ $used }``), and lets the *translator* write plural and
select variants with CLDR rules (``{ $count -> [one] … *[other] … }``) — Chinese needs no plural forms,
English needs two, and neither language forces its grammar on the code. Translators see the whole message,
not sentence fragments glued together by Python.

How it is used:

* The core never renders text for members. It raises errors (``bot.errors``) and returns results that
  carry a :class:`Message` — an id plus typed arguments: ints, datetimes (or :class:`Moment`), user ids as
  :class:`Mention`, member-typed text as :class:`UserText`, and nested :class:`Message` values.
* Adapters render a message for one reader: ``CATALOGUE.format(message, locale, adapt=...)``. ``adapt``
  turns the typed values into what the medium shows (Discord: ``<t:…:R>``, ``<@id>``, escaped text; see
  ``cogs/text.py``). Without one, :func:`plain` gives log- and CLI-friendly text.
* Numbers are formatted by Fluent for the locale (Babel/CLDR: ``2,000`` in English). Identifiers (job
  numbers, seeds) are not quantities: pass them as ``str``.
* Discord locale codes (``en-GB``, ``zh-CN``, ``zh-TW``, ``pt-BR``…) are negotiated to the best locale
  the catalogue has, falling back to ``en-US``.

A missing message id or argument is a bug: under pytest (or with ``I18N_STRICT=1``) it raises
:class:`CatalogueError`; in production it is logged and the English text (or, at worst, the id) is shown
so the member still gets an answer.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import ast as fluent_ast
from fluent.syntax.visitor import Visitor

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en-US"
LOCALES_DIR = Path(__file__).with_name("locales")


class CatalogueError(LookupError):
    """A message id or argument the code uses is not in the catalogue (a bug, loud in tests)."""


# --- typed argument values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """A Discord user, by id; Discord shows ``<@id>`` as the member's name to each reader."""

    user_id: int


@dataclass(frozen=True, slots=True)
class Channel:
    """A Discord channel or thread, by id; Discord shows ``<#id>`` as its name."""

    channel_id: int


class UserText(str):
    """Text a member typed (a prompt, a file name): shown literally, never as markup or a ping."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time and how to show it: ``R`` relative ("in 5 minutes"), ``t`` clock time, ``f`` date
    and time (Discord's timestamp styles; each reader's client renders them in their own zone)."""

    at: datetime
    style: str = "R"

    @property
    def epoch(self) -> int:
        """Rounded up, so a "try again at" time is never before the moment it becomes true."""
        return math.ceil(self.at.timestamp())


@dataclass(frozen=True, slots=True)
class Message:
    """A message id with its arguments; errors and results carry these instead of rendered text."""

    id: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", dict(self.args))


def message_to_json(message: Message) -> dict[str, Any]:
    """A message as JSON, so a stored job can be shown later in each reader's language."""
    return {"id": message.id, "args": {k: _arg_to_json(v) for k, v in message.args.items()}}


STORED_PREFIX = "fluent:"


def store_message(message: Message, limit: int = 2000) -> str:
    """``message`` for a text column (a failed job's reason): its id and arguments as JSON, so each
    reader later sees it in their own language; its English text if the JSON would not fit."""
    encoded = STORED_PREFIX + json.dumps(message_to_json(message), ensure_ascii=False)
    return encoded if len(encoded) <= limit else CATALOGUE.format(message)


def stored_message(value: str) -> Message | str:
    """What :func:`store_message` wrote (or, from before it, plain text: shown as is)."""
    if value.startswith(STORED_PREFIX):
        try:
            return message_from_json(json.loads(value[len(STORED_PREFIX) :]))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable stored message %r", value[:80])
    return value


def message_from_json(data: Mapping[str, Any]) -> Message:
    return Message(str(data["id"]), {k: _arg_from_json(v) for k, v in dict(data.get("args") or {}).items()})


def _arg_to_json(value: Any) -> Any:
    if isinstance(value, Message):
        return {"message": message_to_json(value)}
    if isinstance(value, Moment):
        return {"moment": value.at.isoformat(), "style": value.style}
    if isinstance(value, datetime):
        return {"moment": value.isoformat(), "style": "R"}
    if isinstance(value, Mention):
        return {"mention": str(value.user_id)}
    if isinstance(value, Channel):
        return {"channel": str(value.channel_id)}
    if isinstance(value, UserText):
        return {"user_text": str(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def _arg_from_json(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "message" in value:
        return message_from_json(value["message"])
    if "moment" in value:
        return Moment(datetime.fromisoformat(value["moment"]), value.get("style", "R"))
    if "mention" in value:
        return Mention(int(value["mention"]))
    if "channel" in value:
        return Channel(int(value["channel"]))
    if "user_text" in value:
        return UserText(value["user_text"])
    raise ValueError(f"unknown message argument {value!r}")


def msg(message_id: str, /, **args: Any) -> Message:
    return Message(message_id, args)


Adapt = Callable[[Any], Any]


def plain(value: Any) -> Any:
    """Typed values as text for logs, the CLI and tests (no Discord markup)."""
    if isinstance(value, Moment):
        at = datetime.fromtimestamp(value.epoch, UTC)
        return at.strftime("%H:%M UTC" if value.style in ("t", "T") else "%Y-%m-%d %H:%M UTC")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, Mention):
        return f"@{value.user_id}"
    if isinstance(value, Channel):
        return f"#{value.channel_id}"
    if isinstance(value, UserText):
        return str(value)
    return value


# --- the catalogue --------------------------------------------------------------------------------


def _strict_default() -> bool:
    env = os.environ.get("I18N_STRICT")
    if env is not None:
        return env not in ("", "0", "false", "no")
    return "pytest" in sys.modules


class Catalogue:
    """Every locale directory under ``root``, loaded once; each ``*.ftl`` file of a locale in one bundle."""

    def __init__(self, root: Path = LOCALES_DIR, *, strict: bool | None = None) -> None:
        self.root = root
        self.strict = _strict_default() if strict is None else strict
        self._bundles: dict[str, FluentBundle] = {}
        self._messages: dict[str, dict[str, fluent_ast.Message]] = {}
        for directory in sorted(p for p in root.iterdir() if p.is_dir()):
            self._load(directory.name, sorted(directory.glob("*.ftl")))
        if DEFAULT_LOCALE not in self._bundles:
            raise CatalogueError(f"no {DEFAULT_LOCALE} catalogue in {root}")

    def _load(self, locale: str, files: Iterable[Path]) -> None:
        bundle = FluentBundle([locale], use_isolating=False)
        messages: dict[str, fluent_ast.Message] = {}
        for path in files:
            resource = FluentResource(path.read_text(encoding="utf-8"))
            for entry in resource.body:
                if isinstance(entry, fluent_ast.Junk):
                    raise CatalogueError(f"{path}: syntax error near {entry.content[:60]!r}")
                if isinstance(entry, fluent_ast.Message):
                    if entry.id.name in messages:
                        raise CatalogueError(f"{path}: message {entry.id.name!r} is defined twice in {locale}")
                    messages[entry.id.name] = entry
            bundle.add_resource(resource)
        self._bundles[locale] = bundle
        self._messages[locale] = messages

    # --- what is there

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._bundles)

    def ids(self, locale: str = DEFAULT_LOCALE) -> frozenset[str]:
        return frozenset(self._messages.get(locale, {}))

    def has(self, message_id: str, locale: str = DEFAULT_LOCALE) -> bool:
        return message_id in self._messages.get(locale, {})

    def placeholders(self, message_id: str, locale: str = DEFAULT_LOCALE, *, selectors: bool = True) -> frozenset[str]:
        """The ``$variables`` a message uses (for the check that translations agree). With
        ``selectors=False``, only those shown in the text: a language without plurals may leave out a
        variable that English only uses to choose between "image" and "images"."""
        names: set[str] = set()

        class Variables(Visitor):
            def visit_SelectExpression(self, node: fluent_ast.SelectExpression) -> None:
                if selectors:
                    self.visit(node.selector)
                self.visit(node.variants)

            def visit_VariableReference(self, node: fluent_ast.VariableReference) -> None:
                names.add(node.id.name)

        Variables().visit(self._messages[locale][message_id])
        return frozenset(names)

    def negotiate(self, requested: str | None) -> str:
        """A Discord locale code (``en-GB``, ``zh-CN``, ``es-ES``…) → the best locale we have."""
        if not requested:
            return DEFAULT_LOCALE
        code = str(requested).replace("_", "-")
        if code in self._bundles:
            return code
        language = code.split("-")[0].lower()
        for locale in self._bundles:
            # zh-TW must not get simplified Chinese; other languages fall back on the language alone
            if locale.split("-")[0].lower() == language and language != "zh":
                return locale
        return DEFAULT_LOCALE

    # --- formatting

    def format(self, message: Message | str, locale: str = DEFAULT_LOCALE, *, adapt: Adapt = plain, **args: Any) -> str:
        """Render ``message`` for ``locale``; nested :class:`Message` arguments render in the same locale."""
        if isinstance(message, str):
            message = Message(message, args)
        elif args:
            message = Message(message.id, {**message.args, **args})
        locale = locale if locale in self._bundles else self.negotiate(locale)
        if not self.has(message.id, locale):
            if not self.has(message.id, DEFAULT_LOCALE):
                return self._fail(f"message {message.id!r} is not in the catalogue", fallback=message.id)
            if locale != DEFAULT_LOCALE:
                log.warning("message %r is missing in %s; using %s", message.id, locale, DEFAULT_LOCALE)
            locale = DEFAULT_LOCALE
        values = {name: self._value(value, locale, adapt) for name, value in message.args.items()}
        bundle = self._bundles[locale]
        text, errors = bundle.format_pattern(bundle.get_message(message.id).value, values)
        if errors:
            return self._fail(f"message {message.id!r} in {locale}: {errors}", fallback=text)
        return text

    def _value(self, value: Any, locale: str, adapt: Adapt) -> Any:
        if isinstance(value, Message):
            return self.format(value, locale, adapt=adapt)
        value = adapt(value)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, Enum):
            return str(value.value)
        if isinstance(value, (str, int, float, Decimal)):
            return value
        return str(value)

    def _fail(self, problem: str, *, fallback: str) -> str:
        if self.strict:
            raise CatalogueError(problem)
        log.error("catalogue: %s", problem)
        return fallback


CATALOGUE = Catalogue()


def text(message: Message | str, locale: str = DEFAULT_LOCALE, /, **args: Any) -> str:
    """Shortcut: ``message`` in ``locale`` with plain values (logs, CLI, English ``user_message``)."""
    return CATALOGUE.format(message, locale, **args)
