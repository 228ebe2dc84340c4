"""The text catalogue: ids used in code exist, languages agree on placeholders, plurals are right."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import i18n
from bot.errors import BotError, InputError, QuotaExceeded
from bot.i18n import (
    CATALOGUE,
    DEFAULT_LOCALE,
    Catalogue,
    CatalogueError,
    Mention,
    Message,
    Moment,
    UserText,
    msg,
    text,
)
from bot.imaging.mask import MASK_HELP
from bot.limits import AREA_WORDS, BOX_EXAMPLE, LIMITS, limit_spec
from bot.quota import PAYER_VARIANTS, period, refusal_for_payer, refusal_message
from bot.settings import LimitDefaults, Settings
from cogs.common import AREA_HINT, parse_area
from cogs.render import MASK_HELP as EDIT_HELP
from cogs.render import MENU_MASK_HELP, OPTION_LABELS
from cogs.text import render
from cogs.views import RESULT_BUTTONS, SESSION_BUTTONS
from tests.ids import BOB, OWNER

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for package in ("bot", "cogs", "storage") for p in (ROOT / package).rglob("*.py")]
MESSAGE_CALLS = {"msg", "Message", "render", "render_text", "say", "text", "t"}  # first argument: a message id


def ids_used_in_code() -> dict[str, str]:
    """Message ids written as the first argument of msg/Message/render/text/t (id → where)."""
    found: dict[str, str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            first = node.args[0]
            if name in MESSAGE_CALLS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_scan_finds_the_ids_it_should() -> None:
    used = ids_used_in_code()
    assert {"quota-window", "prompt-too-long", "error-unexpected", "progress-cancelled"} <= set(used)


def test_every_message_id_used_in_code_exists_in_english() -> None:
    known = CATALOGUE.ids(DEFAULT_LOCALE)
    indirect = {
        *PAYER_VARIANTS.values(),
        *(spec.label for spec in LIMITS),
        *(spec.role_label for spec in LIMITS if spec.role_label),
        *OPTION_LABELS.values(),
        *(cls.default_message for cls in [BotError, *all_subclasses(BotError)]),
        *(label for label, _, _ in [*RESULT_BUTTONS.values(), *SESSION_BUTTONS.values()]),
        AREA_HINT.id,
        *(f"list-{n}" for n in (1, 2, 3)),  # cogs.common.permission_names
        "form-area-result",
        "form-area-upload",
        "editor-place-thread",
        "editor-place-session-thread",
        "editor-place-command-channel",
    }
    missing = {i: where for i, where in ids_used_in_code().items() if i not in known}
    missing |= {i: "indirect" for i in indirect if i not in known}
    assert missing == {}


def all_subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *all_subclasses(direct))]


def test_every_locale_has_every_message_with_the_same_placeholders() -> None:
    english = CATALOGUE.ids(DEFAULT_LOCALE)
    for locale in CATALOGUE.locales:
        assert CATALOGUE.ids(locale) == english, f"{locale} differs: {CATALOGUE.ids(locale) ^ english}"
        for message_id in english:
            # the same variables shown; a selector English needs for plurals may go unused
            shown, everything = (
                CATALOGUE.placeholders(message_id, locale, selectors=False),
                CATALOGUE.placeholders(message_id, locale),
            )
            assert shown == CATALOGUE.placeholders(message_id, selectors=False), f"{locale} {message_id}"
            assert everything <= CATALOGUE.placeholders(message_id), f"{locale} {message_id}"


def test_a_translation_with_other_placeholders_is_caught(tmp_path: Path) -> None:
    (tmp_path / "en-US").mkdir()
    (tmp_path / "en-US" / "a.ftl").write_text("hello = Hello { $name }\n", encoding="utf-8")
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "a.ftl").write_text("hello = Hallo { $nmae }\n", encoding="utf-8")
    catalogue = Catalogue(tmp_path, strict=True)
    assert catalogue.placeholders("hello", "xx") == {"nmae"} != catalogue.placeholders("hello")


def test_plurals() -> None:
    assert text("images-count", count=1) == "1 image"
    assert text("images-count", count=2) == "2 images"
    assert text("progress-cancelled", job="7", count=1) == "🚫 Edit #7 was cancelled; its image was refunded."
    assert text("progress-cancelled", job="7", count=3) == "🚫 Edit #7 was cancelled; its 3 images were refunded."
    assert text(period(3600)) == "hour" and text(period(7200)) == "2 hours" and text(period(600)) == "10 minutes"
    assert text(refusal_message("active", requested=1, allowed=2, used=2)).startswith("You already have 2 edits")


def test_numbers_are_formatted_for_the_locale_and_ids_are_not() -> None:
    assert "2,001 characters" in text("prompt-too-long", length=2001, limit=2000)
    assert text("result-title", job="12345") == "Edit #12345"


def test_a_missing_id_or_argument_is_loud_in_tests() -> None:
    assert CATALOGUE.strict
    with pytest.raises(CatalogueError, match="no-such-message"):
        text("no-such-message")
    with pytest.raises(CatalogueError, match="images-count"):
        text("images-count")


def test_outside_tests_a_missing_id_falls_back_quietly() -> None:
    lenient = Catalogue(strict=False)
    assert lenient.format("no-such-message") == "no-such-message"


def test_syntax_errors_in_a_catalogue_fail_at_load(tmp_path: Path) -> None:
    (tmp_path / "en-US").mkdir()
    (tmp_path / "en-US" / "a.ftl").write_text("hello = { $name\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="syntax error"):
        Catalogue(tmp_path)


@pytest.mark.parametrize(
    ("discord_locale", "expected"),
    [
        ("en-US", "en-US"),
        ("en-GB", "en-US"),
        (None, "en-US"),
        ("fr", "en-US"),
        ("zh-TW", "en-US"),  # traditional Chinese readers must not get simplified characters
    ],
)
def test_locale_negotiation(discord_locale: str | None, expected: str) -> None:
    assert CATALOGUE.negotiate(discord_locale) == expected


def test_zh_cn_is_chosen_when_the_catalogue_has_it() -> None:
    if "zh-CN" in CATALOGUE.locales:
        assert CATALOGUE.negotiate("zh-CN") == "zh-CN"


def test_discord_rendering_of_typed_values() -> None:
    at = datetime(2030, 5, 17, 12, 0, 0, 1, tzinfo=UTC)
    epoch = int(at.timestamp()) + 1  # rounded up: never earlier than the real moment
    refusal = QuotaExceeded("daily", at, msg("quota-when", retry_in=Moment(at, "R"), retry_at=Moment(at, "t")))
    assert render(refusal.message) == f"<t:{epoch}:R> (<t:{epoch}:t>)"
    assert "<t:" not in refusal.user_message  # the core's own rendering has no Discord markup
    error = InputError(msg("option-style-code-format", code=UserText("**@everyone**")))
    shown = render(error.message)
    assert "**" not in shown.replace("\\*\\*", "") and "@everyone" not in shown
    assert error.user_message == "Style code **@everyone** must be 8 hexadecimal characters."


def test_payer_refusals_are_their_own_messages() -> None:
    own = refusal_message("daily", requested=2, allowed=25, used=25)
    refusal = refusal_for_payer(QuotaExceeded("daily", None, own), payer_user_id=OWNER, requester_user_id=OWNER + 1)
    assert refusal.message.id == "quota-payer" and refusal.message_args["owner"] == Mention(OWNER)
    assert refusal.message_args["refusal"].id == "quota-daily-payer"
    shown = render(refusal.message)
    assert shown.startswith(f"This session's owner <@{OWNER}> pays") and "They've used 25 of their 25 images" in shown
    too_many = refusal_message("too_many_images", requested=30, allowed=25, cap="daily")
    theirs = render(
        refusal_for_payer(
            QuotaExceeded("too_many_images", None, too_many), payer_user_id=OWNER, requester_user_id=BOB
        ).message
    )
    assert "their daily limit is 25" in theirs and "your" not in theirs


def test_errors_carry_ids_and_typed_arguments() -> None:
    error = InputError(msg("prompt-too-long", length=2001, limit=2000), refund=False)
    assert (error.message_id, error.message_args) == ("prompt-too-long", {"length": 2001, "limit": 2000})
    assert error.refund is False and InputError("x").refund is True
    assert str(error) == error.user_message and "2,001" in error.user_message
    legacy = InputError("Literal text, not yet in the catalogue.")
    assert legacy.message_id == "error-literal" and legacy.user_message == "Literal text, not yet in the catalogue."


def test_scrubbing_the_text_keeps_no_secret() -> None:
    error = InputError(msg("option-style-preset-unknown", preset=UserText("sk-secret")))
    error.user_message = error.user_message.replace("sk-secret", "[redacted]")
    assert "sk-secret" not in render(error.message) and "[redacted]" in render(error.message)


# --- one mask vocabulary --------------------------------------------------------------------------


def area_messages() -> dict[str, Message]:
    """Every message that names the area words or shows an example box, as the code builds it."""
    with pytest.raises(InputError) as refused:
        parse_area("somewhere")
    return {m.id: m for m in (AREA_HINT, MENU_MASK_HELP, refused.value.message, MASK_HELP)}


def test_the_area_words_and_the_example_box_come_from_bot_limits() -> None:
    """Written out in a message they drift (the forms once said 10,10,60,60, the core 10,20,60,80)."""
    messages = area_messages()
    assert set(messages) == {"mask-area-hint", "mask-help-menu", "area-unknown", "mask-help"}
    box_like = re.compile(r"\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+")
    for locale in CATALOGUE.locales:
        for message in messages.values():
            shown = render(message, locale)
            assert BOX_EXAMPLE in shown and all(word in shown for word in AREA_WORDS), (locale, message.id)
            stand_ins = render(Message(message.id, {**message.args, "areas": "<areas>", "box": "<box>"}), locale)
            assert not box_like.search(stand_ins), (locale, message.id, stand_ins)
            assert not [w for w in AREA_WORDS if re.search(rf"\b{w}\b", stand_ins)], (locale, message.id, stand_ins)


def test_the_edit_help_and_the_box_option_show_the_same_example_box() -> None:
    """The /edit help (``cogs.render.MASK_HELP``) takes the box from ``bot.limits``; the box option's
    description is registered with Discord as static text, so it is checked here instead."""
    for locale in CATALOGUE.locales:
        assert f"box:{BOX_EXAMPLE}" in render(EDIT_HELP, locale), locale
        assert BOX_EXAMPLE in render("cmd-edit--box", locale), locale


# --- one limit specification ----------------------------------------------------------------------


def test_limit_defaults_derive_from_the_specification() -> None:
    defaults = LimitDefaults()
    assert [f.name for f in fields(LimitDefaults)] == [spec.setting for spec in LIMITS]
    for spec in LIMITS:
        assert defaults.value(spec.name) == spec.default
        assert CATALOGUE.has(spec.label)
    assert limit_spec("window_minutes").minimum == 1


def test_limit_environment_variables_and_ceilings_come_from_the_specification() -> None:
    spec = limit_spec("daily_images")
    settings = Settings.from_mapping({spec.env_var: str(spec.ceiling)})
    assert settings.limits.user_daily_images == spec.ceiling
    with pytest.raises(BotError, match=spec.env_var):
        Settings.from_mapping({spec.env_var: str(spec.ceiling + 1)})
    with pytest.raises(BotError, match="USER_WINDOW_MINUTES"):
        Settings.from_mapping({"USER_WINDOW_MINUTES": "0"})


def test_the_catalogue_module_is_loaded_once() -> None:
    assert i18n.CATALOGUE is CATALOGUE and DEFAULT_LOCALE in CATALOGUE.locales


def test_every_file_kind_the_decoder_names_has_its_own_words() -> None:
    from bot.imaging import decode

    kinds = {kind for _, kind in decode._MAGIC} | {"heif", "avif-unreadable", "quicktime", "mp4", "wav", "avi"}
    kinds |= {"damaged-webp", "riff", "svg", "html"}
    for locale in CATALOGUE.locales:
        fallback = CATALOGUE.format("file-kind", locale, kind="text")
        assert all(CATALOGUE.format("file-kind", locale, kind=k) != fallback for k in kinds - {"text"}), locale
    assert text("file-kind", kind="pdf") == "a PDF document"


def test_every_job_status_has_its_own_words() -> None:
    from bot.store import JobStatus

    for locale in CATALOGUE.locales:
        shown = {CATALOGUE.format("job-status", locale, status=str(s)) for s in JobStatus}
        assert len(shown) == len(JobStatus), locale
    assert text("job-status", status="succeeded") == "succeeded"


# Files whose errors may still carry literal English: none (keep it empty; new code raises msg(...) errors).
NOT_YET_IN_THE_CATALOGUE: set[str] = set()


def test_errors_are_raised_with_message_ids_not_literal_text() -> None:
    """``InputError("…")`` renders English for everyone; new code raises ``InputError(msg("id", …))``.
    Operator-facing configuration errors (``ConfigError``) stay English, like the setup commands."""
    from bot import errors

    member_facing = {
        name
        for name in dir(errors)
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), errors.BotError)
        and name != "ConfigError"
    }
    literal = []
    for path in SOURCES:
        where = str(path.relative_to(ROOT))
        if where in NOT_YET_IN_THE_CATALOGUE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # a subclass of a member-facing error passing literal text to its base: super().__init__("…")
        in_errors = {
            id(call)
            for cls in ast.walk(tree)
            if isinstance(cls, ast.ClassDef)
            and any(getattr(b, "id", getattr(b, "attr", "")) in member_facing for b in cls.bases)
            for call in ast.walk(cls)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            raises = name in member_facing or (name == "__init__" and id(node) in in_errors)
            if raises and is_literal_text(node.args[0], string_constants(tree)):
                literal.append(f"{where}:{node.lineno}")
    assert literal == []


def string_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to a string literal (``MASK_SIZE = "The mask is …"``)."""
    return {
        target.id
        for stmt in tree.body
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Constant, ast.JoinedStr))
        if not isinstance(stmt.value, ast.Constant) or isinstance(stmt.value.value, str)
        for target in stmt.targets
        if isinstance(target, ast.Name)
    }


def is_literal_text(node: ast.AST, constants: set[str]) -> bool:
    """A literal, an f-string, a module string constant, or ``.format``/``%``/``+`` of one."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return is_literal_text(node.func.value, constants)
    if isinstance(node, ast.BinOp):
        return is_literal_text(node.left, constants) or is_literal_text(node.right, constants)
    return False


def test_the_literal_error_scan_sees_through_constants_and_format() -> None:
    tree = ast.parse('SIZE = "The mask is {w}"\nHINT = "Try again"\nID = msg("x")\n')
    constants = string_constants(tree)
    assert constants == {"SIZE", "HINT"}
    for source in ("SIZE.format(w=1)", "HINT", '"a" + HINT', 'f"x{1}"', '"Text"'):
        assert is_literal_text(ast.parse(source, mode="eval").body, constants), source
    for source in ("ID", 'msg("x")', "error.message"):
        assert not is_literal_text(ast.parse(source, mode="eval").body, constants), source


def test_a_message_survives_json_for_storage() -> None:
    import json

    from bot.i18n import message_from_json, message_to_json
    from bot.quota import retry_when

    at = datetime(2030, 5, 17, 12, 5, tzinfo=UTC)
    original = msg(
        "quota-payer",
        owner=Mention(OWNER),
        refusal=msg("quota-daily-payer", used=25, allowed=25, requested=2, when=retry_when(at), fewer=""),
    )
    restored = message_from_json(json.loads(json.dumps(message_to_json(original))))
    assert restored == original
    assert render(restored, "zh-CN") == render(original, "zh-CN") and f"<@{OWNER}>" in render(restored)
    assert message_from_json(message_to_json(msg("job-status", status=UserText("x")))).args["status"] == "x"


def test_guild_config_and_role_overrides_have_a_field_per_limit() -> None:
    from bot.limits import LIMIT_NAMES, ROLE_LIMIT_NAMES
    from bot.store import GuildConfig, RoleLimits

    assert [f.name for f in fields(GuildConfig) if f.name in LIMIT_NAMES] == list(LIMIT_NAMES)
    assert [f.name for f in fields(RoleLimits) if f.name in LIMIT_NAMES] == list(ROLE_LIMIT_NAMES)
