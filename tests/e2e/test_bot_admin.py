"""End to end: ``/limits show|set|role|exempt|usage`` with the real bot, the Discord simulation and the fake
Ideogram. Only members with Manage Server may use them (the bot checks itself: Discord's default
permissions can be changed by server admins, and the simulation does not enforce them); every change
takes effect at once for the next ``/edit`` and is audited."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bot_harness import EPHEMERAL, H, W, World, make_world, reply, sample_mask, text_of
from tests.discord_sim import CallbackType, SimInteraction, SimMessage, SimRole, SimUser


async def limits(
    world: World, sub: str, options: dict | None = None, *, user=None
) -> tuple[SimInteraction, SimMessage]:
    """Run ``/limits <sub>`` (as the moderator unless ``user``) and return its private answer."""
    inter = await world.sim.slash("limits", options or {}, subcommand=sub, user=user or world.sim.mod)
    ack = await world.sim.wait_for_ack(inter)
    assert ack.json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE and ack.json["data"]["flags"] & EPHEMERAL
    answer = await reply(world, inter)
    assert answer.flags & EPHEMERAL
    return inter, answer


async def try_edit(world: World, user: SimUser | None = None) -> tuple[bool, str]:
    """One ``/edit``: (True, text) once its result is posted, (False, refusal) when refused."""
    inter = await world.edit("a red hat", user=user, mask=sample_mask(W, H))
    answer = await world.sim.wait_for_message(
        None,
        lambda m: (
            m.interaction_id == inter.id
            and ("is ready" in m.content or "queued" not in m.content)
            and "being generated" not in m.content
        ),
        timeout=10,
    )
    assert answer.flags & EPHEMERAL
    return "is ready" in answer.content, text_of(answer)


def member(world: World, name: str, *roles: SimRole) -> SimUser:
    user = world.sim.add_user(name)
    world.sim.add_member(world.sim.guild, user, roles=list(roles))
    return user


# --- who may ---------------------------------------------------------------------------------------------


async def test_plain_member_is_refused_every_limits_command(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        role = world.sim.add_role(world.sim.guild, "Artists")
        await world.start_bot()
        command = world.sim.find_command("limits")
        assert command is not None and int(command["default_member_permissions"]) & (1 << 5)  # Manage Server
        attempts = [
            ("show", {}),
            ("set", {"limit": "daily_images", "value": 100}),
            ("role", {"role": role, "daily_images": 100}),
            ("exempt", {"role": role}),
            ("usage", {}),
        ]
        for sub, options in attempts:
            _, answer = await limits(world, sub, options, user=world.sim.user)
            assert "Manage Server" in answer.content, (sub, answer.content)
            assert not answer.embeds
        config = await world.bot.storage.guild_config(world.sim.guild.id)
        assert config.daily_images is None and config.roles == ()
        assert await world.bot.storage.audit_log(world.sim.guild.id) == []


# --- set ---------------------------------------------------------------------------------------------------


async def test_set_daily_limit_takes_effect_and_is_audited(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        _, shown = await limits(world, "show")
        assert "Images per user per day: 25 (default)" in text_of(shown)

        _, answer = await limits(world, "set", {"limit": "daily_images", "value": 1})
        text = text_of(answer)
        assert "Set **Images per user per day** to 1" in text
        assert "Images per user per day: **1**" in text
        assert re.search(rf"<@{world.sim.mod.id}> Images per user per day: default → 1", text)

        ok, text = await try_edit(world)
        assert ok, text
        ok, refusal = await try_edit(world)
        assert not ok
        assert "1 image for today" in refusal and "midnight UTC" in refusal
        assert re.search(r"<t:\d+:R>", refusal)  # when to retry
        assert len(world.api.edit_requests) == 1

        _, answer = await limits(world, "set", {"limit": "daily_images"})  # empty value: back to the default
        assert "Images per user per day: 25 (default)" in text_of(answer)
        ok, _ = await try_edit(world)
        assert ok

        _, shown = await limits(world, "show")
        text = text_of(shown)
        assert "Recent changes" in text
        assert re.search(rf"<@{world.sim.mod.id}> Images per user per day: 1 → default", text)
        audit = await world.bot.storage.audit_log(world.sim.guild.id)
        assert [(a.actor_id, a.action, a.old_value, a.new_value) for a in audit] == [
            (world.sim.mod.id, "set daily_images", "1", "default"),
            (world.sim.mod.id, "set daily_images", "default", "1"),
        ]


async def test_server_daily_cap_and_zero_switch_edits_off(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        await limits(world, "set", {"limit": "guild_daily_images", "value": 1})
        bob = member(world, "bob")
        assert (await try_edit(world))[0]
        ok, refusal = await try_edit(world, bob)  # another member: the server's cap is shared
        assert not ok and "This server has used 1 of its 1 image for today" in refusal

        await limits(world, "set", {"limit": "guild_daily_images"})
        await limits(world, "set", {"limit": "window_images", "value": 0})
        ok, refusal = await try_edit(world, bob)
        assert not ok and "switched off" in refusal


# --- role overrides and exemptions ----------------------------------------------------------------------------


async def test_role_override_gives_members_their_own_limit(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        artists = world.sim.add_role(world.sim.guild, "Artists")
        await world.start_bot()
        artist = member(world, "artist", artists)
        plain = member(world, "plain")
        await limits(world, "set", {"limit": "daily_images", "value": 1})
        _, answer = await limits(world, "role", {"role": artists, "daily_images": 3})
        text = text_of(answer)
        assert f"<@&{artists.id}>: daily 3" in text
        assert re.search(rf"<@{world.sim.mod.id}> <@&{artists.id}>: no overrides → daily 3", text)  # in words

        assert (await try_edit(world, artist))[0]
        assert (await try_edit(world, artist))[0]  # 2 > the server's 1: the role's 3 applies
        assert (await try_edit(world, plain))[0]
        ok, refusal = await try_edit(world, plain)
        assert not ok and "1 image for today" in refusal

        quota = await world.sim.slash("quota", user=artist)
        assert "1 of 3 images left" in text_of(await reply(world, quota, "Today"))

        _, answer = await limits(world, "role", {"role": artists, "remove": True})
        assert answer.content == f"Removed the override for <@&{artists.id}>."
        assert not [f for f in answer.embeds[0].get("fields", []) if f["name"] == "Role override"]
        ok, refusal = await try_edit(world, artist)
        assert not ok and "1 image for today" in refusal


async def test_exempt_role_bypasses_user_limits_but_not_the_server_cap(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        staff = world.sim.add_role(world.sim.guild, "Staff")
        await world.start_bot()
        insider = member(world, "insider", staff)
        outsider = member(world, "outsider")
        await limits(world, "set", {"limit": "window_images", "value": 1})
        _, answer = await limits(world, "exempt", {"role": staff})
        assert f"<@&{staff.id}>: exempt from per-user limits" in text_of(answer)
        assert f"<@&{staff.id}> is now exempt" in answer.content

        for _ in range(3):
            assert (await try_edit(world, insider))[0]
        assert (await try_edit(world, outsider))[0]
        ok, refusal = await try_edit(world, outsider)
        assert not ok and "per 10 minutes" in refusal and re.search(r"<t:\d+:R>", refusal)

        # giving the exempt role a per-role limit keeps the exemption
        _, answer = await limits(world, "role", {"role": staff, "daily_images": 50})
        assert f"<@&{staff.id}>: exempt" in text_of(answer)
        assert (await try_edit(world, insider))[0]

        quota = await world.sim.slash("quota", user=insider)
        assert "exempt" in text_of(await reply(world, quota, "Your image quota"))

        await limits(world, "set", {"limit": "guild_daily_images", "value": 5})  # 5 used already
        ok, refusal = await try_edit(world, insider)
        assert not ok and "This server has used 5 of its 5 images" in refusal

        _, answer = await limits(world, "exempt", {"role": staff, "exempt": False})
        assert "no longer exempt" in answer.content


# --- usage -----------------------------------------------------------------------------------------------------


async def test_usage_report_counts_images_per_member(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        _, empty = await limits(world, "usage")
        assert "**0 images** in the last 1 day(s)" in empty.content and "No edits." in empty.content

        bob = member(world, "bob")
        assert (await try_edit(world))[0]
        assert (await try_edit(world))[0]
        assert (await try_edit(world, bob))[0]
        inter, report = await limits(world, "usage", {"days": 7})
        assert "**3 images** in the last 7 day(s)" in report.content
        lines = report.content.splitlines()
        assert f"<@{world.sim.user.id}>: 2 images in 2 edits" in lines[1]  # most images first
        assert f"<@{bob.id}>: 1 image in 1 edit" in lines[2]
        usage_call = next(c for c in world.sim.interaction_responses(inter) if c.kind in ("followup", "edit_original"))
        assert usage_call.json["allowed_mentions"]["parse"] == []  # names members without pinging them
