# Operator controls (issue 10): the bot's daily budget, the ceilings on server limits, the servers and
# places the bot serves. Set by the operator in the environment, not by server admins.

quota-off-bot = Image edits are switched off on this bot for now (its operator set its daily budget to 0 images).
quota-bot-daily = This bot has used { $used } of its daily budget of { $allowed ->
        [one] { $allowed } image
       *[other] { $allowed } images
    } (all servers together), and this edit needs { $requested }. The bot's budget resets at midnight UTC, { $when }.{ $fewer }
quota-cap-bot-daily = the bot's daily budget

# $limit is a limit-* label; $setting the operator's environment variable.
limits-above-ceiling = { $limit } can be at most { $ceiling } on this bot: that is the ceiling its operator set ({ $setting }).

served-not-here = This bot is not available in this server: its operator runs it only in the servers they chose.
served-no-dms = Edits are not available in direct messages. Use `/edit` in a server this bot is in.
