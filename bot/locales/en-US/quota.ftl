# Quota refusals (bot/quota.py). Every count is in images, the unit the image service bills.
# $when is quota-when or quota-when-later; $fewer is quota-fewer or empty; $period is a period-* message.

quota-off-guild = Image edits are switched off on this server (its daily limit is 0 images).
quota-off-user = Image edits are switched off for you here (your limit is 0). Ask a server admin if you think that is a mistake.

quota-window = You've used { $used } of your { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } per { $period }, and this edit needs { $requested }. You can edit again { $when }.{ $fewer }
quota-daily = You've used { $used } of your { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } for today, and this edit needs { $requested }. Your daily images reset at midnight UTC, { $when }.{ $fewer }
quota-guild-daily = This server has used { $used } of its { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } for today, and this edit needs { $requested }. The server's images reset at midnight UTC, { $when }.{ $fewer }
quota-active = { $used ->
        [one] You already have an edit queued or running. You can start another when it finishes.
       *[other] You already have { $used } edits queued or running, the most you can have at once. You can start another when one of your { $used } edits finishes.
    }
quota-too-many = This edit asks for { $requested ->
        [one] { $requested } image
       *[other] { $requested } images
    }, but { $which } is { $allowed }, so it can never fit. Ask for { $allowed } or fewer.

quota-cap-window = your limit per { $period }
quota-cap-daily = your daily limit
quota-cap-guild-daily = this server's daily limit
quota-cap-any = your limit

quota-when = { $retry_in } ({ $retry_at })
quota-when-later = later
quota-fewer = { " " }Or ask for { $count ->
        [one] { $count } image
       *[other] { $count } images
    } now.

period-window = window
period-days = { $count ->
        [one] day
       *[other] { $count } days
    }
period-hours = { $count ->
        [one] hour
       *[other] { $count } hours
    }
period-minutes = { $count ->
        [one] minute
       *[other] { $count } minutes
    }
period-seconds = { $count ->
        [one] { $count } second
       *[other] { $count } seconds
    }

# When an editing session's owner pays for its edits and their limit is reached ($owner is the owner).
quota-payer = This session's owner { $owner } pays for its edits, and the owner's limit is reached. { $refusal } The owner can switch 💳 Who pays so that each editor uses their own quota.
quota-off-user-payer = Image edits are switched off for them here (their limit is 0).
quota-window-payer = They've used { $used } of their { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } per { $period }, and this edit needs { $requested }. Edits here can continue { $when }.{ $fewer }
quota-daily-payer = They've used { $used } of their { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } for today, and this edit needs { $requested }. Their daily images reset at midnight UTC, { $when }.{ $fewer }
quota-too-many-payer = This edit asks for { $requested ->
        [one] { $requested } image
       *[other] { $requested } images
    }, but { $which } is { $allowed }, so it can never fit. Ask for { $allowed } or fewer.
quota-cap-window-payer = their limit per { $period }
quota-cap-daily-payer = their daily limit
quota-cap-any-payer = their limit
