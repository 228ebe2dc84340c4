# Errors every part of the bot may show (bot/errors.py, cogs/errors.py).

# Text not yet moved into the catalogue; shown as is in every language.
error-literal = { $text }
error-internal = Something went wrong on the bot's side. Nothing was charged; please try again.
error-unexpected = Something went wrong on the bot's side. Nothing was charged; please try again.
error-operator-notice = The image service is not available right now because of a configuration problem on the bot's side. The bot's operator has the details in its log; your images were not charged.
error-guild-only = That command only works in a server.
error-check-failed = You are not allowed to do that here.
error-bad-option-value = { $value } is not a valid value for that option.
