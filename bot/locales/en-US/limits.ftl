# The limits a server admin can change (bot/limits.py LIMITS: one label per limit).
limit-window-images = Images per user per window
limit-window-minutes = Window length (minutes)
limit-daily-images = Images per user per day
limit-max-active-jobs = Edits queued or running per user
limit-guild-daily-images = Images for the whole server per day
