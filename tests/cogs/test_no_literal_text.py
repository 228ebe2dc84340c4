"""No sentence a member reads is written in ``cogs/``: every reply, embed, button and form goes through
the catalogue (``bot/locales``), so a new literal cannot slip past the translations unnoticed.

The scan walks each adapter with ``ast`` and fails, naming the place, on a string literal (or f-string, or
a module constant holding one) with letters in it that is passed to Discord as text: message content
(``send``/``respond``/``reply``/``edit*``/``followup.send``), embeds (``Embed(title=, description=)``,
``add_field(name=, value=)``, ``set_footer``/``set_author``, ``embed.title``/``.description``), buttons
(``Button(label=)``), forms (``TextInput(label=, placeholder=)``, ``Modal(title=)``, and this project's
``Field``/``build_form``). Text without language (emoji, separators, markup around ids) passes; what
looks like language but is not goes on the explicit allow-list below.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SEND_CALLS = {"send", "respond", "reply", "send_message", "followup"}
KEYWORDS = {
    "Embed": {"title", "description"},
    "add_field": {"name", "value"},
    "set_footer": {"text"},
    "set_author": {"name"},
    "Button": {"label"},
    "TextInput": {"label", "placeholder"},
    "Modal": {"title"},
    "Select": {"placeholder"},
    "SelectOption": {"label", "description"},
    "Field": {"label", "placeholder"},
    "build_form": {"title"},
}
POSITIONAL = {"Field": (1,), "build_form": (0,)}  # Field(key, label, …), build_form(title, custom_id, …)
CONTENT_KEYWORDS = {"content"}
TEXT_ATTRIBUTES = {"title", "description"}  # embed.title = …, embed.description = …

# (file, literal): strings with letters that are not language.
ALLOWED = {
    ("cogs/delivery.py", "@original"),  # discord.py's name for the interaction's own response, not text
}


def has_language(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def literal_text(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The language in ``node`` if it is written here: a literal, an f-string's literal parts, a
    concatenation, a conditional of literals, or a module constant holding a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if has_language(node.value) else None
    if isinstance(node, ast.JoinedStr):
        parts = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return parts if has_language(parts) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return literal_text(node.left, constants) or literal_text(node.right, constants)
    if isinstance(node, ast.IfExp):
        return literal_text(node.body, constants) or literal_text(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id] if has_language(constants[node.id]) else None
    return None


def call_name(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def literals_in(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    constants = {
        target.id: stmt.value.value
        for stmt in tree.body
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
        for target in stmt.targets
        if isinstance(target, ast.Name)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in TEXT_ATTRIBUTES:
                    if (text := literal_text(node.value, constants)) is not None:
                        found.append((node.lineno, text))
            continue
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        checked: list[ast.AST] = []
        if name in SEND_CALLS or name.startswith("edit"):
            checked += node.args
            checked += [k.value for k in node.keywords if k.arg in CONTENT_KEYWORDS]
        if name in KEYWORDS:
            checked += [k.value for k in node.keywords if k.arg in KEYWORDS[name]]
            checked += [node.args[i] for i in POSITIONAL.get(name, ()) if i < len(node.args)]
        for arg in checked:
            if (text := literal_text(arg, constants)) is not None and (where, text) not in ALLOWED:
                found.append((node.lineno, text))
    return [f"{where}:{line}: {text!r}" for line, text in sorted(found)]


def test_the_scan_catches_literal_text() -> None:
    snippet = """
LABEL = "Draw the area"
async def f(interaction, embed, ui, job):
    await respond(interaction, "Saved.")
    await interaction.followup.send(f"Edit #{job} is ready")
    await interaction.edit_original_response(content="Done " + str(job))
    embed = discord.Embed(title="Your image quota")
    embed.add_field(name="Today", value=f"{job} left")
    embed.description = "exempt"
    ui.Button(label=LABEL, emoji="🖌️")
    ui.TextInput(label="New prompt", placeholder="top, bottom")
    Field("area", "Area to change", placeholder="top")
    build_form("Edit again", "form:again:1", [])
    ui.Modal(title="Use as base")
"""
    found = literals_in(snippet, "x.py")
    assert len(found) == 14, found


def test_text_without_language_and_catalogue_calls_pass() -> None:
    snippet = """
async def f(interaction, embed, ui, job, locale):
    await respond(interaction, render("result-ready", locale, requester=Mention(job)))
    embed.add_field(name=say("result-requested-by", locale), value=f"<@{job}>")
    ui.Button(label="", emoji="🎲")
    await channel.send(" · ".join(parts))
    await interaction.edit_original_response(content=text, view=None)
"""
    assert literals_in(snippet, "x.py") == []


def test_no_literal_member_text_in_the_adapters() -> None:
    found = []
    for path in sorted((ROOT / "cogs").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        found += literals_in(path.read_text(encoding="utf-8"), where)
    assert found == [], "put these in bot/locales/*/discord.ftl and render them:\n" + "\n".join(found)


def test_the_allow_list_has_no_stale_entries() -> None:
    for where, text in ALLOWED:
        assert text in (ROOT / where).read_text(encoding="utf-8"), (where, text)
