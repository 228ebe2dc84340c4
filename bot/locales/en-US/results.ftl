# Progress lines, result embeds and history entries (cogs/render.py). $job is the edit's number.

images-count = { $count ->
        [one] { $count } image
       *[other] { $count } images
    }
duration-seconds = { $seconds } s
duration-minutes = { $minutes } min { $seconds } s
progress-queued = ⏳ Edit #{ $job } is queued — position { $position } of { $total }, starting { $start }.
progress-memory = ⏳ Waiting for memory to prepare your image — position { $position }. Nothing is refused for this; it starts as soon as earlier images are done.
progress-start-next = next
progress-start-in = in about { $duration }
progress-running = 🎨 Edit #{ $job } is being generated…
progress-running-for = 🎨 Edit #{ $job } is being generated ({ $duration })…
progress-ready-link = ✅ Edit #{ $job } is ready: { $url }{ $withheld }
progress-ready-private = ✅ Edit #{ $job } is ready (sent to you privately).{ $withheld }
progress-withheld = { " " }{ $count ->
        [one] { $count } image
       *[other] { $count } images
    } withheld by the safety filter.
progress-cancelled = 🚫 Edit #{ $job } was cancelled; { $count ->
        [one] its image was refunded.
       *[other] its { $count } images were refunded.
    }
progress-failed = ❌ Edit #{ $job } failed: { $reason }
progress-failed-unknown = unknown error.

options-speed = speed { $value }
options-style = style { $value }
options-magic-prompt = magic prompt { $value }
options-preset = preset { $value }
options-model = model { $value }
options-defaults = defaults

result-title = Edit #{ $job }
result-prompt-used = Prompt used by the API
result-seeds = Seeds
result-withheld = Withheld
result-withheld-images = { $count ->
        [one] Image { $images } was withheld by the safety filter.
       *[other] Images { $images } were withheld by the safety filter.
    }
result-options = Options
result-requested-by = Requested by
result-from = From
result-from-job = edit #{ $job } ({ $action })
result-footer = Reroll, edit again or keep editing with the buttons below.

history-link = { " " }· [result]({ $url })
job-status = { $status ->
        [queued] queued
        [running] running
        [succeeded] succeeded
        [failed] failed
       *[cancelled] cancelled
    }
