"""The editor page depends only on its language: made once per language, with no file read at a request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiohttp import web

from bot.i18n import CATALOGUE
from bot.web import editor_routes


def test_the_page_and_its_files_are_read_and_made_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    for made in (editor_routes.editor_page, editor_routes._static):
        getattr(made, "cache_clear", lambda: None)()  # as a fresh process starts
    opened: list[str] = []
    real = editor_routes.resources

    def files(package: str):  # each read of a static file starts here
        opened.append(package)
        return real.files(package)

    monkeypatch.setattr(editor_routes, "resources", SimpleNamespace(files=files))
    editor_routes.add_routes(web.Application(), None)
    assert len(opened) == len(editor_routes.STATIC) + 1  # editor.js, editor.css and editor.html, once
    for locale in (*CATALOGUE.locales, *CATALOGUE.locales):  # requests: no read, no formatting
        page = editor_routes.editor_page(locale)
        assert page is editor_routes.editor_page(locale) and f'<html lang="{locale}">' in page
    for name in editor_routes.STATIC:
        assert editor_routes._static(name) is editor_routes._static(name)
    assert len(opened) == len(editor_routes.STATIC) + 1
