# What the Discord adapters (cogs/) show: buttons, forms, replies, embeds.

## Buttons (cogs/views.py, cogs/history.py, cogs/editor.py)
button-reroll = Reroll
button-edit-again = Edit again
button-use-as-base = Use as base
button-open-thread = Open thread
button-make-head = Make head
button-compare = Compare
button-delete = Delete
button-keep = Keep
button-lock = Lock / unlock
button-who-pays = Who pays
button-close-session = Close session
button-cancel = Cancel
button-draw-mask = Draw mask
button-forged = That button does not belong to this message.

## Forms (modals)
form-edit-again-title = Edit again
form-use-as-base-title = Use as base
form-edit-image-title = Edit image
form-draw-mask-title = Draw mask
form-new-prompt = New prompt
form-next-change = What should change next?
form-changed-area-shows = What should the changed area show?
form-which-image = Which image ({ $images })?
form-area-same-mask = Area to change (empty = same mask)
form-area-result = Area to change (empty = same mask as this result)
form-area-upload = Area to change (empty = use transparent pixels)
menu-no-image = That message has no image attached. Use it on a message with an image.

## Lists and Discord's permission names (as Discord shows them)
list-1 = { $a }
list-2 = { $a } and { $b }
list-3 = { $a }, { $b } and { $c }
permission-name = { $name ->
        [send-messages-in-threads] Send Messages in Threads
        [attach-files] Attach Files
        [embed-links] Embed Links
       *[send-messages] Send Messages
    }

## Results (cogs/delivery.py, cogs/results.py)
result-ready = { $requester } your edit is ready.
result-deleted = Deleted the result of edit #{ $job }.{ $kept ->
        [history] { " " }It stays in `/history` until you delete it there.
       *[gone] { "" }
    }

## The editor link (cogs/editor.py); places are shown on the web page, without Discord markup
editor-link-button = Draw the area
editor-link-text = Mark the area to change in the editor: paint over it, check the preview, then press **Confirm**. The link works for you only, once, for { $minutes } minutes.
editor-place-thread = the thread “{ $name }”
editor-place-session-thread = the editing session's thread
editor-place-command-channel = the channel where you used the command

## /history and /quota (cogs/history.py)
history-empty = You have no edits yet. Try `/edit`!
history-no-match = No edits match that search.
history-header = Your edits { $first }–{ $last } of { $total }
history-header-search = Your edits { $first }–{ $last } of { $total } matching “{ $search }”
history-newer = ◀ Newer
history-older = Older ▶
history-nothing-deleted = Nothing was deleted.
history-deleted-all = Deleted your whole history ({ $count ->
        [one] { $count } edit
       *[other] { $count } edits
    }).{ $kept ->
        [0] { "" }
        [one] { " " }{ $kept } edit still queued or running was kept.
       *[other] { " " }{ $kept } edits still queued or running were kept.
    }
history-delete-gone = Edit #{ $job } is not in your history any more.
history-deleted-one = Deleted edit #{ $job } from your history.
history-reposted = Posted edit #{ $job } again: { $url }
history-reposted-privately = Posted.
history-delete-one-question = Delete edit #{ $job } and its images from your history?
history-delete-all-question = Delete { $count ->
        [one] your only edit and its images
       *[other] all { $count } of your edits and their images
    }? This cannot be undone.
history-nothing-to-delete = You have no edits to delete.
quota-title = Your image quota
quota-exempt = Your role is exempt from the per-user limits.
quota-window-name = Every { $minutes ->
        [one] minute
       *[other] { $minutes } minutes
    }
quota-window-left = { $left } of { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } left{ $frees }
quota-window-frees = ; the next frees up { $at }
quota-today-name = Today
quota-today-left = { $left } of { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } left; resets { $resets }
quota-at-once-name = At once
quota-at-once = { $active } of { $allowed ->
        [one] { $allowed } edit
       *[other] { $allowed } edits
    } queued or running
quota-server-name = This server today
quota-bot-name = This bot today, for everyone
quota-images-left = { $left } of { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } left

## /queue (cogs/queue.py)
queue-title = Queue — { $running } running, { $waiting } waiting
queue-running-line = 🎨 **#{ $job }** { $requester } — { $prompt } (running { $duration })
queue-waiting-line = ⏳ { $position }. **#{ $job }** { $requester } — { $prompt } (starts in about { $duration })
queue-more = … and { $count } more.
queue-hidden = … and { $count } private or from channels you can't see.
queue-empty = Nothing is waiting. 🎉
queue-footer = Cancel a waiting edit with /queue cancel job:<number>.
queue-cancelled-by-moderator = 🚫 Your edit #{ $job } was cancelled by a moderator; its images were refunded.

## Editing sessions (cogs/sessions.py)
session-intro-summary = 🧵 **Editing session #{ $session }** — owner { $owner }; { $locked ->
        [yes] only { $owner } can edit
       *[no] everyone here can edit
    }; { $owner_pays ->
        [yes] { $owner } pays for every edit
       *[no] each editor pays from their own quota
    }.
session-intro-help =
    • `/edit prompt:…` here (no image needed) edits the current head, reusing its mask unless you give a new `mask`, `region` or `box`.
    • Buttons on any version: Edit again, Use as base, Make head, Compare.
    • `/session tree` shows every version; `/session revert version:N` goes back.
session-saved = Saved.
session-closed-reply = Session closed; its version tree stays in the bot's history.
session-closed-notice = 📕 This editing session was closed.
session-started = Started editing session #{ $session } in { $thread }.
session-head-now = Edit #{ $job } is now the head: the next `/edit` here starts from it.
session-compare-caption = Before / after of edit #{ $job }
session-compare-posted = Posted the comparison.
session-reverted = v{ $version } (edit #{ $job }) is the head again.
session-open-failed = I could not open a thread for edit #{ $job }: { $reason }
session-tree-title = Session #{ $session }: { $count ->
        [one] { $count } version
       *[other] { $count } versions
    }
session-tree-empty = No versions yet.
session-tree-head-mark = head
session-tree-footer = Head: { $path } — the next `/edit` here builds on it.
session-tree-more = … { $count } more versions

## /limits (cogs/admin.py)
limits-title = Limits on this server
limits-default-value = { $value } (default)
limits-role-exempt = exempt from per-user limits
# A role's value for one limit: each per-role limit names its own (LimitSpec.role_label, bot/limits.py).
limits-role-window = window { $value }
limits-role-daily = daily { $value }
limits-role-at-once = at once { $value }
limits-role-none = no overrides
limits-role-override = Role override
limits-more-roles = More role overrides
limits-more-roles-value = … and { $count } more.
limits-recent-changes = Recent changes
limits-role-removed = removed
limits-audit-default = default
limits-set = Set **{ $limit }** to { $value ->
        [default] the default
       *[other] { $value }
    }.
limits-role-saved = Saved limits for { $role }.
limits-role-removed-note = Removed the override for { $role }.
limits-exempt-note = { $role } is { $exempt ->
        [yes] now
       *[no] no longer
    } exempt from the per-user limits.
limits-usage-line = { $member }: { $images ->
        [one] { $images } image
       *[other] { $images } images
    } in { $jobs ->
        [one] { $jobs } edit
       *[other] { $jobs } edits
    }
limits-usage-more = … and { $count } more members.
limits-usage-total = **{ $images ->
        [one] { $images } image
       *[other] { $images } images
    }** in the last { $days } day(s).
limits-usage-none = No edits.

## The "Edit image" menu's mask advice (cogs/edit.py). $areas lists the region words, $box is an example box.
mask-help-menu = That image has no transparent area, so say which part to change in the **Area** field: { $areas }, or a box like `{ $box }` (percent).
