# Refusals and errors of the services (bot/jobs.py, bot/sessions.py, bot/history.py, bot/editor.py,
# bot/limits_service.py), storage and the Discord adapters (cogs/).

result-no-image = That result has no image to edit (it was withheld or deleted).
result-images-are = That result has images { $images }; pick one of those.
result-images-range = That result has images 1 to { $count }; pick one of those.
result-delete-not-yours = Only the person who asked for this edit, or someone with Manage Messages, can delete it.
editor-result-gone = That result is no longer in the bot's history, so it cannot be edited.
editor-mask-too-large = The mask is larger than { $megabytes } MB.
editor-draw-first = Draw the area to change first.
history-no-such-edit = You have no edit #{ $job }. `/history list` shows your edits.
history-no-images = Edit #{ $job } has no images to show ({ $status }).
history-not-yours = You have no edit #{ $job }.
history-still-active = Edit #{ $job } is still { $status }; cancel it or wait for it first.
history-nothing-to-compare = That edit has no image to compare.
history-someone-elses = These are someone else's edits; use `/history list` for yours.
history-confirm-not-yours = Only the person who asked can answer this.
jobs-too-many-at-once = This bot makes at most { $count } images at a time; ask for fewer.
job-gone = That edit is no longer in the bot's history (it was deleted or expired).
job-gone-short = That edit is no longer in the bot's history.
job-not-running = That edit has already finished or no longer exists.
job-no-such = There is no job #{ $job }.
job-cancel-not-yours = Only the person who asked for this edit (or a moderator) can cancel it.
job-cancel-too-late = Job #{ $job } is { $status } and can no longer be cancelled.
job-cancel-just-started = Job #{ $job } has just started and can no longer be cancelled.
limits-need-manage-server = You need the Manage Server permission to change the bot's limits.
area-region-and-box = Use either `region` or `box`, not both.
area-mask-and-region = Give either a mask file or a region/box, not both.
# $areas lists the region words, $box is an example box.
area-unknown = “{ $text }” is not an area I know. Use { $areas }, or a box in percent like { $box }.
image-number-invalid = “{ $value }” is not an image number; use 1, 2, …
session-needs-finished-edit = Only a finished edit can start an editing session.
session-not-private = A private edit cannot start an editing session: sessions are shared in a thread.
session-needs-server = Editing sessions need a server channel.
session-already-version = This edit is already a version of an editing session.
session-no-image = That edit has no image to start a session from.
session-gone = That editing session no longer exists.
session-closed = This editing session is closed. Start a new one from any result with 🧵.
session-locked = This session is locked: only { $owner } can edit here right now.
session-other-thread = That editing session belongs to another thread; use its buttons there.
session-owner-pays-only = Only the session's owner { $owner } can make every edit here use their quota.
session-owner-only = Only the session's owner { $owner } (or Manage Threads) can do that.
session-open-not-yours = Only { $requester }, who asked for this edit (or Manage Threads), can open a session on it.
session-no-private-edits = Edits in an editing session are shared in its thread; leave out `private`.
session-head-deleted = The session's head version was deleted; use /session revert to pick another.
session-head-needs-finished = Only a finished version of this session can become its head.
session-version-no-image = That version has no image (it was withheld).
session-versions-range = This session has versions 1 to { $count }.
session-exists = This result already has an editing session: { $thread }.
session-thread-failed = Discord would not let me open a thread on that result ({ $reason }).
session-needs-thread-permission = I need the Create Public Threads permission here to open a session.
session-not-a-version = That version is not part of an editing session.
session-use-in-thread = Use this inside an editing-session thread (open one with 🧵 on any result).
cannot-post-here = I can't post here.
post-missing-permissions = I can't post results here: I'm missing { $permissions }. { $hint ->
        [private] Ask an admin to grant it, or use `private:True`.
       *[admin] Ask an admin to grant it.
    }
file-input-gone = The image for this edit is no longer stored; please upload it again.
file-image-gone = That image is no longer stored.
upload-what = { $what ->
        [mask] mask
       *[image] image
    }
upload-too-large = The { upload-what } is { NUMBER($megabytes, minimumFractionDigits: 1, maximumFractionDigits: 1) } MB; the limit is { $limit } MB. Save it smaller (e.g. as JPEG) and try again.
upload-download-failed = Discord would not give me the { upload-what } ({ $status }); upload it again.
upload-not-an-image = `{ $name }` is not an image. Attach a PNG, JPEG or WebP.
edit-image-missing = Attach the image to edit with the `image` option (inside an editing-session thread, the session's current head is used).
message-unreadable = I can't read that message any more (deleted, or I lack access).
message-images-range = That message has images 1 to { $count }.
editor-link-forged = This editor link is not valid. Use the link the bot gave you, or run the command again.
editor-link-expired = This editor link has expired. Run the command again in Discord to get a new one.
editor-link-used = This edit was already confirmed; this link cannot queue it again. Run the command again for another.
editor-image-gone = The image of this draft is no longer stored. Run the command again in Discord.
editor-mask-size = The mask is { $mw }×{ $mh } but the image is { $iw }×{ $ih }; reload the editor and draw again.
editor-session-closed = This editing session was closed after the link was made, so the edit cannot be added to it.
job-failed-restart = The bot restarted twice while making this edit, so it was stopped. Nothing was charged.
job-failed-internal = Something went wrong inside the bot while making this edit. Nothing was charged.
