"""``python -m bot [run|check|sync|edit|migrate]``: the operator's entry points."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import BotError, ConfigError
from bot.models import MaskSpec, Region
from bot.options import EditOptions, MagicPrompt, RenderingSpeed, StyleType
from bot.secret import install_secret_filter
from bot.settings import Settings

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Ideogram image-editing Discord bot")
    parser.add_argument("--env-file", default=".env", help="settings file read before the environment")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Discord bot (the default; with the queue unless RUN_WORKER=false)")
    sub.add_parser("worker", help="run the queue only, without a gateway connection (several may run)")
    sub.add_parser("check", help="validate the settings and say what is missing")
    sub.add_parser("sync", help="sync slash commands with Discord now, then exit")
    migrate = sub.add_parser("migrate", help="copy the SQLite database into an empty PostgreSQL database")
    migrate.add_argument("--to", required=True, metavar="postgresql://…", help="the target database's URL")

    edit = sub.add_parser("edit", help="edit one image from the command line")
    edit.add_argument("image", type=Path)
    edit.add_argument("--prompt", required=True)
    edit.add_argument("--mask", type=Path, help="mask file; black = edit (use --invert-mask for white)")
    edit.add_argument("--region", choices=[r.value for r in Region])
    edit.add_argument("--box", help="x1,y1,x2,y2 in percent of width/height")
    edit.add_argument("--invert-mask", action="store_true", help="the mask's white area is the edit")
    edit.add_argument("--seed", type=int)
    edit.add_argument("--count", type=int, default=1, help="number of images (1-8)")
    edit.add_argument("--magic-prompt", choices=[m.value for m in MagicPrompt])
    edit.add_argument("--style", choices=[s.value for s in StyleType])
    edit.add_argument("--speed", choices=[s.value for s in RenderingSpeed])
    edit.add_argument("--out", type=Path, default=Path("edits"))
    edit.add_argument("--preview", action="store_true", help="also write the mask preview")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(env_file=args.env_file)
    except ConfigError as exc:
        print(f"Configuration error: {exc.user_message}", file=sys.stderr)
        return 2
    command = args.command or "run"
    if command in ("check", "edit", "migrate"):  # the bot configures discord.py's logging itself
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        install_secret_filter(settings.secrets())
    if command == "check":
        return check(settings)
    if command == "edit":
        return asyncio.run(edit(settings, args))
    if command == "migrate":
        from bot.app import migrate_database  # the composition root reaches the storage backends

        return migrate_database(settings, args.to)
    problems = settings.problems(need_discord=True, need_api=command in ("run", "worker"))
    if problems:
        for problem in problems:
            print(f"Cannot start: {problem}", file=sys.stderr)
        print("Run `python -m bot check` for the full list of settings.", file=sys.stderr)
        return 2
    from bot.app import run_bot  # imported late: the CLI edit path needs no Discord code
    from bot.memory import release_freed_memory_promptly

    release_freed_memory_promptly()  # before any image is decoded (see its docstring)

    return run_bot(settings, sync_only=command == "sync", worker=command == "worker")


def check(settings: Settings) -> int:
    problems = settings.problems(need_discord=True, need_api=True)
    print(f"API: {settings.ideogram_api} shape at {settings.edit_url} ({settings.ideogram_auth} auth)")
    print(f"Task polling: {settings.ideogram_task_path or 'off (task-shaped answers fail clearly)'}")
    print(f"Images in flight at most: {settings.max_images_in_flight}")
    print(f"Data: {settings.data_dir} (database {settings.database_path})")
    where = f"{settings.web_host}:{settings.web_port}"
    print(f"Web server: {where} (/healthz, /livez, /readyz, /metrics); logs: {settings.log_format}")
    web = f"on at {settings.public_url} (listening on {settings.web_host}:{settings.web_port})"
    print(f"Mask editor: {web if settings.public_url else 'off (set PUBLIC_URL to turn it on)'}")  # issue 12
    allowed = settings.allowed_guild_ids  # operator controls (issue 10)
    servers = f"only {', '.join(map(str, sorted(allowed)))}" if allowed else "ANY that invites the bot"
    print(f"Servers served: {servers}" + ("" if allowed else " (set ALLOWED_GUILD_IDS to choose)"))
    print(f"Daily image budget: {settings.daily_image_budget} images for the whole bot (DAILY_IMAGE_BUDGET)")
    print(f"Edits in DMs: {'allowed' if settings.allow_dms else 'refused (ALLOW_DMS=false)'}")
    for problem in problems:
        print(f"MISSING: {problem}")
    print("Settings OK." if not problems else f"{len(problems)} problem(s).")
    return 1 if problems else 0


async def edit(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ideogram import IdeogramClient
    from bot.imaging import parse_box, preview_async
    from bot.service import EditService

    if not settings.ideogram_api_key:
        print(f"Cannot edit: {settings.problems(need_discord=False, need_api=True)[0]}", file=sys.stderr)
        return 2
    try:  # --mask/--region/--box exclusivity is the core's check (EditService.prepare), as for Discord
        spec = MaskSpec(
            mask=args.mask.read_bytes() if args.mask else None,
            invert=args.invert_mask,
            region=Region(args.region) if args.region else None,
            box=parse_box(args.box) if args.box else None,
        )
        options = EditOptions(
            num_images=args.count,
            seed=args.seed,
            magic_prompt=MagicPrompt(args.magic_prompt) if args.magic_prompt else None,
            style_type=StyleType(args.style) if args.style else None,
            rendering_speed=RenderingSpeed(args.speed) if args.speed else None,
        )
        image = args.image.read_bytes()
        try:  # before the (billed) edit, so a bad --out costs nothing
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"Cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
            return 1
        async with IdeogramClient(settings) as client:
            outcome = await EditService(settings, client).edit(image, spec, args.prompt, options)
    except OSError as exc:
        print(f"Cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    except BotError as exc:
        log.debug("edit failed: %s", exc.detail)
        # the CLI's user is the operator: for their problems (key, plan, credits) the detail says what to
        # fix, where the user message only says "the operator has the details"; the client redacted both
        message = exc.detail if getattr(exc, "operator_problem", False) else exc.user_message
        print(f"Edit failed: {message}", file=sys.stderr)
        return 1

    stem = args.image.stem
    written = []
    for img in outcome.result.images:
        entry = {
            "index": img.index,
            "seed": img.seed,
            "resolution": img.resolution,
            "prompt_used": img.prompt_used,
            "withheld_by_safety_filter": img.withheld,
            "file": None,
        }
        if img.image is not None:
            path = args.out / f"{stem}-edit-{img.seed}-{img.index}.{img.image.extension}"
            path.write_bytes(img.image.data)
            entry |= {"file": path.name, "width": img.image.width, "height": img.image.height}
            print(path)
        else:
            print(f"image {img.index + 1} was withheld by the safety filter", file=sys.stderr)
        written.append(entry)
    if args.preview:
        shown = await preview_async(outcome.prepared)
        path = args.out / f"{stem}-mask-preview.{shown.extension}"
        path.write_bytes(shown.data)
        print(path)
    sidecar = {
        "input": str(args.image),
        "input_sha256": hashlib.sha256(image).hexdigest(),
        "prompt": args.prompt,
        "options": options.to_json(),
        "api": {"shape": str(settings.ideogram_api), "url": settings.edit_url},
        "created": outcome.result.created,
        "edit_fraction": round(outcome.prepared.edit_fraction, 4),
        "notes": list(outcome.prepared.notes),
        "seconds": round(outcome.seconds, 3),
        "images": written,
    }
    sidecar_path = args.out / f"{stem}-edit.json"
    sidecar_path.write_text(json.dumps(sidecar, indent=2))
    print(sidecar_path)
    return 0 if outcome.result.delivered else 1
