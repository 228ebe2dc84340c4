"""The link and HTTP rules on their own (no bot, no browser): signatures, expiry, single use, secret,
security headers, body limits, and no token in the access log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession, FormData
from aiohttp.test_utils import TestClient, TestServer

from bot.editor import EditorService, LinkExpired, LinkForged, LinkSigner, load_secret
from bot.errors import ConfigError
from bot.secret import Secret
from bot.settings import Settings
from bot.store import NewDraft, Requester
from bot.web import WebServer, build_app
from bot.web.server import MAX_BODY_BYTES, redact_path
from storage.sqlite import SqliteStorage
from tests.fakes.ideogram import sample_image
from tests.storage_support import Clock, make_storage

T0 = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
USER = 183465712345678901
OTHER = 283465712345678902
SECRET = b"0123456789abcdef0123456789abcdef"
REPLY_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnNlY3JldC1yZXBseS10b2tlbg"


def test_signed_link_round_trip_and_every_tampering_is_refused() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign(7, USER, T0 + timedelta(minutes=15))
    claims = signer.verify(token, T0)
    assert (claims.draft_id, claims.user_id) == (7, USER)
    draft, user, expiry, mac = token.split(".")
    tampered = [
        f"8.{user}.{expiry}.{mac}",  # another draft
        f"{draft}.{OTHER}.{expiry}.{mac}",  # another user
        f"{draft}.{user}.{int(expiry) + 3600}.{mac}",  # a longer life
        f"{draft}.{user}.{expiry}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # a changed signature
        LinkSigner(b"another-secret-of-enough-length!").sign(7, USER, T0 + timedelta(minutes=15)),
        "",
        "garbage",
        f"x.{user}.{expiry}.{mac}",
    ]
    for bad in tampered:
        with pytest.raises(LinkForged):
            signer.verify(bad, T0)


def test_expiry_is_checked_after_the_signature() -> None:
    signer = LinkSigner(SECRET)
    token = signer.sign(7, USER, T0 + timedelta(minutes=15))
    with pytest.raises(LinkExpired):
        signer.verify(token, T0 + timedelta(minutes=15))
    forged_and_old = token[:-2] + "zz"
    with pytest.raises(LinkForged):
        signer.verify(forged_and_old, T0 + timedelta(days=1))


def test_secret_is_generated_once_kept_private_and_web_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_secret(settings)
    assert len(first) >= 32 and load_secret(settings) == first
    assert (tmp_path / "web_secret").stat().st_mode & 0o077 == 0
    assert load_secret(Settings(data_dir=tmp_path, web_secret=Secret("configured-secret-value-1234"))) == (
        b"configured-secret-value-1234"
    )
    assert Settings.from_mapping({"WEB_SECRET": "configured-secret-value-1234"}).secrets()[-1]


def test_web_settings_parse_and_refuse_nonsense() -> None:
    settings = Settings.from_mapping(
        {"PUBLIC_URL": "https://bot.example.org/", "WEB_PORT": "9000", "EDITOR_LINK_MINUTES": "5"}
    )
    assert (settings.public_url, settings.web_port, settings.editor_link_minutes) == (
        "https://bot.example.org",
        9000,
        5,
    )
    assert Settings.from_mapping({}).public_url is None and Settings.from_mapping({}).web_host == "127.0.0.1"
    refused = (
        ("PUBLIC_URL", "bot.example.org"),
        ("PUBLIC_URL", "wss://bot.example.org"),
        ("WEB_PORT", "99999"),
        ("EDITOR_LINK_MINUTES", "0"),
    )
    for name, value in refused:
        with pytest.raises(Exception, match=name):
            Settings.from_mapping({name: value})


def test_redact_path() -> None:
    assert redact_path("/e/1.2.3.abc/image") == "/e/[token]/image"
    assert redact_path("/e/1.2.3.abc") == "/e/[token]"
    assert redact_path("/static/editor.js") == "/static/editor.js"


# --- over HTTP ---------------------------------------------------------------------------------------


@dataclass
class Site:
    client: ClientSession
    editor: EditorService
    storage: SqliteStorage
    clock: Clock

    async def draft(self, *, user: int = USER) -> str:
        sha = await self.storage.files.put(sample_image(96, 64))
        draft = await self.storage.create_draft(
            NewDraft(
                requester=Requester(user, 383465712345678903, 483465712345678904),
                prompt="a red hat",
                options={"num_images": 1},
                image_sha=sha,
                expires_at=self.clock.now + timedelta(minutes=15),
                reply_token=REPLY_TOKEN,
                place="#general",
            )
        )
        return self.editor.link(draft).split("/e/", 1)[1]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clock = Clock(T0)
    storage = make_storage(tmp_path, clock)
    await storage.open()
    settings = Settings(data_dir=tmp_path, public_url="http://127.0.0.1:1", web_port=0)
    editor = EditorService(settings, storage, jobs=None, signer=LinkSigner(SECRET), clock=clock)  # type: ignore[arg-type]
    server = WebServer(settings, editor)  # the real runner, with its access logger
    await server.start()
    try:
        async with ClientSession(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield Site(client, editor, storage, clock)
    finally:
        await server.stop()
        await storage.close()


async def test_page_image_and_draft_need_a_good_link(site: Site) -> None:
    token = await site.draft()
    page = await site.client.get(f"/e/{token}")
    assert page.status == 200 and 'aria-label="Mask"' in await page.text()
    draft = await (await site.client.get(f"/e/{token}/draft")).json()
    assert (draft["width"], draft["height"], draft["prompt"], draft["place"]) == (96, 64, "a red hat", "#general")
    assert REPLY_TOKEN not in str(draft)
    image = await site.client.get(f"/e/{token}/image")
    assert image.status == 200 and await image.read() == sample_image(96, 64)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for path in ("", "/image", "/draft", "/mask"):
        refused = await site.client.get(f"/e/{forged}{path}")
        assert refused.status == 403, path
    assert "not valid" in await (await site.client.get(f"/e/{forged}")).text()


async def test_expired_and_used_links(site: Site) -> None:
    token = await site.draft()
    draft_id = int(token.split(".")[0])
    await site.storage.claim_draft(draft_id)
    await site.storage.settle_draft(draft_id, 1)
    used = await site.client.get(f"/e/{token}")
    assert used.status == 409 and "already confirmed" in await used.text()
    assert (await site.client.post(f"/e/{token}/confirm", data={"prompt": "x"})).status == 409
    fresh = await site.draft()
    site.clock.advance(minutes=15)
    expired = await site.client.get(f"/e/{fresh}")
    assert expired.status == 410 and "run the command again" in (await expired.text()).lower()
    assert (await site.client.get(f"/e/{fresh}/image")).status == 410


async def test_security_headers_everywhere(site: Site) -> None:
    token = await site.draft()
    for path in (f"/e/{token}", f"/e/{token}/image", "/static/editor.js", "/healthz", "/e/forged.1.2.x", "/nothing"):
        response = await site.client.get(path)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    assert (await site.client.get(f"/e/{token}")).headers["Cache-Control"] == "no-store"
    html = await (await site.client.get(f"/e/{token}")).text()
    assert "<script>" not in html and "<script src=" in html and "onclick" not in html
    assert (await site.client.get("/static/../editor.py")).status == 404


async def test_request_bodies_are_capped(site: Site) -> None:
    token = await site.draft()
    big = FormData()
    big.add_field("prompt", "a red hat")
    big.add_field("mask", b"x" * (MAX_BODY_BYTES + 1), filename="mask.png", content_type="image/png")
    assert (await site.client.post(f"/e/{token}/confirm", data=big)).status == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: aiohttp stops reading at the cap
        yield b'--b\r\nContent-Disposition: form-data; name="mask"; filename="m.png"\r\n\r\n'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    streamed = await site.client.post(
        f"/e/{token}/confirm", data=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert streamed.status == 413


async def test_no_token_in_any_log_line(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = await site.draft()
    for path in ("", "/image", "/draft"):
        await site.client.get(f"/e/{token}{path}")
    await site.client.get(f"/e/{token[:-2]}xx")
    signature = token.rsplit(".", 1)[1]
    assert "/e/[token]" in caplog.text  # the access log did run
    assert signature not in caplog.text and REPLY_TOKEN not in caplog.text


async def test_editor_off_means_no_editor(tmp_path: Path) -> None:
    async with TestClient(TestServer(build_app(None))) as client:
        assert (await client.get("/healthz")).status == 200
        off = await client.get("/e/1.2.3.abc")
        assert off.status == 404 and "PUBLIC_URL" in await off.text()


async def test_a_busy_port_is_a_clear_configuration_error(tmp_path: Path) -> None:
    first = WebServer(Settings(data_dir=tmp_path, web_port=0), None)
    await first.start()
    try:
        second = WebServer(Settings(data_dir=tmp_path, web_port=first.port or 0), None)
        with pytest.raises(ConfigError, match="WEB_PORT"):
            await second.start()
    finally:
        await first.stop()


def test_a_missing_browser_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web import conftest

    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        conftest._require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        conftest._require_browser()


def test_check_says_whether_the_editor_is_on(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import check

    check(Settings())
    assert "Mask editor: off (set PUBLIC_URL" in capsys.readouterr().out
    check(Settings(public_url="https://bot.example.org", web_port=9000))
    assert "Mask editor: on at https://bot.example.org (listening on 127.0.0.1:9000)" in capsys.readouterr().out


def test_page_messages_word_times_and_users_without_discord_markup() -> None:
    """The page has no Discord markup: a refusal's relative time is worded from now, its clock time is
    UTC, and a user is "its owner" — in the page's language."""
    from bot.i18n import CATALOGUE, Mention, Moment, msg
    from bot.web.editor_routes import page_value, web_message

    at = T0 + timedelta(minutes=4, seconds=10)
    when = msg("quota-when", retry_in=Moment(at, "R"), retry_at=Moment(at, "t"))
    assert CATALOGUE.format(when, "en-US", adapt=page_value("en-US", T0)) == "in 5 minutes (12:04 UTC)"
    assert CATALOGUE.format(when, "zh-CN", adapt=page_value("zh-CN", T0)) == "5 分钟后（12:04 UTC）"
    later = msg("quota-when", retry_in=Moment(T0 + timedelta(hours=7), "R"), retry_at=Moment(T0, "t"))
    assert CATALOGUE.format(later, "en-US", adapt=page_value("en-US", T0)).startswith("in about 7 hours")
    owner = web_message(msg("web-someone"), "en-US")
    assert page_value("en-US")(Mention(123456789012345678)) == owner == "its owner"
    assert "<" not in web_message(when, "en-US")
