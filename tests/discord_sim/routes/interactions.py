"""Answers to interactions: the initial callback and the interaction webhooks (follow-ups, the
original response and follow-ups by id), with Discord's timing rules (3 s for the callback, the
token's 15 minutes, "already acknowledged", a follow-up filling a "thinking" deferral)."""

from __future__ import annotations

import time
from typing import Any

from ..discord_types import CallbackType, ErrorCode, InteractionType, MessageFlag, MessageType
from ..entities import SimMessage
from ..records import ApiError, RecordedCall, SimInteraction, invalid_form
from ..world import SENDABLE_FLAGS
from .base import HOOK, Route, Routes


class InteractionRoutes(Routes):
    def routes(self) -> list[Route]:
        return [
            ("POST", r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback", self._interaction_callback),
            ("POST", HOOK, self._webhook_execute),
            ("GET", HOOK + r"/messages/(?P<message_id>@original|\d+)", self._webhook_message_op),
            ("PATCH", HOOK + r"/messages/(?P<message_id>@original|\d+)", self._webhook_message_op),
            ("DELETE", HOOK + r"/messages/(?P<message_id>@original|\d+)", self._webhook_message_op),
        ]

    async def _interaction_callback(self, call: RecordedCall, interaction_id: str, token: str) -> tuple[int, Any]:
        inter = self.world.interactions.get(int(interaction_id))
        if inter is None or inter.token != token:
            raise ApiError(404, ErrorCode.UNKNOWN_INTERACTION)
        late = self.config.callback_window is not None and call.at - inter.dispatched_at > self.config.callback_window
        if late or time.time() > inter.expires_at:
            raise ApiError(404, ErrorCode.UNKNOWN_INTERACTION)
        if inter.acked:
            raise ApiError(400, ErrorCode.ALREADY_ACKNOWLEDGED)
        body = call.json if isinstance(call.json, dict) else {}
        ctype = body.get("type")
        data = body.get("data") or {}
        channel = self.world.channels[inter.channel_id]
        message: SimMessage | None = None
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7} if inter.message_id else {4, 5},
        }[InteractionType(inter.type)]
        if ctype not in allowed:
            raise invalid_form(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        self._check_upload(call, channel)
        if ctype == CallbackType.CHANNEL_MESSAGE:
            message = self._create_interaction_message(inter, data, call)
        elif ctype == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags = MessageFlag.LOADING | (int(data.get("flags") or 0) & MessageFlag.EPHEMERAL)
            message = self.world.new_message(
                channel, self.world.bot_user, {}, [], flags=flags, allow_empty=True, **self._interaction_meta(inter)
            )
        elif ctype in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            message = self.world.messages[inter.message_id]  # type: ignore[index]
            if ctype == CallbackType.UPDATE_MESSAGE:
                self.world.edit_message(message, data, call)
        inter.callback = call
        call.status = 200  # so ``acked`` holds while the rest of this handler runs
        if message is not None:
            inter.original_message_id = message.id
            call.message_id = message.id
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        info: dict[str, Any] = {"id": str(inter.id), "type": inter.type}
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = self.world.message_payload(message)
        return 200, {"interaction": info, "resource": resource}

    def _interaction_meta(self, inter: SimInteraction) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "user": inter.user.payload(),
            "authorizing_integration_owners": inter.payload.get("authorizing_integration_owners", {}),
        }
        if inter.type == InteractionType.APPLICATION_COMMAND:
            meta["name"] = inter.name
            meta["command_type"] = inter.command_type
        if inter.message_id is not None:
            meta["interacted_message_id"] = str(inter.message_id)
        if inter.type == InteractionType.APPLICATION_COMMAND:
            mtype = MessageType.CONTEXT_MENU_COMMAND if inter.command_type != 1 else MessageType.CHAT_INPUT_COMMAND
        else:
            mtype = MessageType.DEFAULT
        return {
            "interaction": inter,
            "metadata": meta,
            "message_type": mtype,
        }

    def _create_interaction_message(
        self, inter: SimInteraction, data: dict[str, Any], call: RecordedCall
    ) -> SimMessage:
        channel = self.world.channels[inter.channel_id]
        flags = int(data.get("flags") or 0) & SENDABLE_FLAGS
        return self.world.new_message(
            channel, self.world.bot_user, data, call.files, flags=flags, **self._interaction_meta(inter)
        )

    def _webhook_interaction(self, call: RecordedCall, app_id: str, token: str) -> SimInteraction:
        inter = self.world.tokens.get(token)
        if int(app_id) != self.world.application_id or inter is None:
            raise ApiError(404, ErrorCode.UNKNOWN_WEBHOOK)
        if time.time() > inter.expires_at:
            raise ApiError(401, ErrorCode.INVALID_WEBHOOK_TOKEN)
        if not inter.acked:
            raise ApiError(404, ErrorCode.UNKNOWN_WEBHOOK)
        return inter

    async def _webhook_execute(self, call: RecordedCall, app_id: str, token: str) -> tuple[int, Any]:
        inter = self._webhook_interaction(call, app_id, token)
        channel = self.world.channels[inter.channel_id]
        self._check_upload(call, channel)
        body = call.json if isinstance(call.json, dict) else {}
        original = self.world.messages.get(inter.original_message_id or 0)
        if (
            self.config.followup_resolves_deferral
            and inter.followups == 0
            and inter.callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
        ):
            message = original
            self.world.edit_message(message, body, call, replace_all=True)
        else:
            message = self._create_interaction_message(inter, body, call)
        inter.followups += 1
        call.message_id = message.id
        if call.query.get("wait") in ("1", "true", "True"):
            return 200, self.world.message_payload(message)
        return 204, None

    def _webhook_message(self, inter: SimInteraction, message_id: str) -> SimMessage:
        if message_id == "@original":
            if inter.original_message_id is None:
                raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
            target = self.world.messages[inter.original_message_id]
        else:
            target = self.world.messages.get(int(message_id))  # type: ignore[assignment]
            if target is None or (target.interaction_id != inter.id and target.id != inter.original_message_id):
                raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
        if target.deleted:
            raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
        return target

    async def _webhook_message_op(
        self, call: RecordedCall, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        inter = self._webhook_interaction(call, app_id, token)
        message = self._webhook_message(inter, message_id)
        call.message_id = message.id
        if call.method == "GET":
            return 200, self.world.message_payload(message)
        if call.method == "DELETE":
            self.world.delete_message(message)
            return 204, None
        self._check_upload(call, self.world.channels[message.channel_id])
        self.world.edit_message(message, call.json if isinstance(call.json, dict) else {}, call)
        return 200, self.world.message_payload(message)
