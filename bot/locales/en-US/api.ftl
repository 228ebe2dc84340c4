# The image service's answers (bot/ideogram/). $reason is the service's own words, when it gave any.
api-bad-request = The image service rejected the request as invalid.
api-bad-request-reason = The image service rejected the request: { $reason }
api-credits = The bot's image-service account is out of credits or over its spending limit. The bot's operator has the details in its log; your images were not charged.
api-safety = The image service's safety check refused this edit.
api-safety-reason = The image service's safety check refused this edit: { $reason }
api-rate-limited = The image service is busy with too many images right now. Please try again in a minute.
api-timeout-408 = The image service took too long to answer. Please try again.
api-unavailable = The image service is having trouble right now (HTTP { $status }). Please try again later.
api-unexpected-status = The image service returned an unexpected error (HTTP { $status }). Please try again later.
