# When a result cannot be posted where it was asked for, and when a restart cut a command short
# (cogs/delivery.py, rules in bot/delivery.py). $job is the edit's number.

delivery-fallback = I could not post edit #{ $job } where you asked for it ({ $reason }), so here it is.
delivery-reason = { $reason ->
        [gone] the channel or thread no longer exists
        [closed] the thread is archived or locked
        [forbidden] I am not allowed to post there
       *[error] Discord kept failing
    }
progress-undelivered = ⚠️ Edit #{ $job } is ready, but I could not post it ({ $reason }) or send it to you. It is kept in `/history`.
interaction-interrupted = ⚠️ This was interrupted by a restart — nothing was charged, please try again.
