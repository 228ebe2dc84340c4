# Slash-command descriptions, option descriptions and choice names (cogs/translator.py).
# Ids: cmd-<command path> for a command or group, cmd-<command path>--<option> for an option,
# menu-<name> for a context-menu name, choice-<value> for a choice. Discord allows at most 100 characters.
# English here mirrors the text in the cogs (the source strings); translations are looked up by these ids.

cmd-edit = Change part of an image with a prompt
cmd-edit--prompt = What the changed area should show
cmd-edit--image = The image to edit (optional inside an editing-session thread)
cmd-edit--mask = Black = change, white = keep (or use invert_mask, transparency, region or box)
cmd-edit--region = Change a whole part of the image instead of drawing a mask
cmd-edit--box = Change a rectangle: x1,y1,x2,y2 in percent, e.g. 10,20,60,80
cmd-edit--invert_mask = My mask is white where the image should change
cmd-edit--seed = Repeat a result exactly (same inputs + same seed)
cmd-edit--count = How many versions to make
cmd-edit--magic_prompt = Let the API improve the prompt
cmd-edit--style = Style of the edit
cmd-edit--speed = Faster is cheaper; quality is slower
cmd-edit--private = Only you see the results
cmd-edit--thread = Open an editing-session thread on the result
menu-edit-image = Edit image

cmd-history = Your past edits
cmd-history-list = Your edits, newest first
cmd-history-list--search = Only edits whose prompt contains this
cmd-history-show = Post a past edit again, with its buttons
cmd-history-show--job = The edit's number (#123)
cmd-history-delete = Delete one edit, or your whole history
cmd-history-delete--job = The edit's number; leave empty to delete everything
cmd-quota = How many images you can still make, and when limits reset

cmd-queue = Edits waiting on this server
cmd-queue-show = Edits running and waiting on this server
cmd-queue-cancel = Cancel an edit that has not started (yours, or any as a moderator)
cmd-queue-cancel--job = The edit's number (#123)

cmd-session = The editing session in this thread
cmd-session-tree = Every version of this session and how they relate
cmd-session-revert = Make an earlier version the head again
cmd-session-revert--version = The version number from /session tree
cmd-session-settings = Owner: who may edit and who pays
cmd-session-settings--locked = Only the owner may edit
cmd-session-settings--owner_pays = Charge every edit to the owner's quota
cmd-session-close = Owner: close this session and archive the thread

cmd-limits = View and change this server's image limits
cmd-limits-show = Show this server's limits, role overrides and recent changes
cmd-limits-set = Change one limit (leave the value empty to use the default)
cmd-limits-set--limit = Which limit
cmd-limits-set--value = The new value; 0 blocks edits; empty = bot default
cmd-limits-role = Give a role its own per-user limits
cmd-limits-role--role = The role
cmd-limits-role--window_images = Images per window for members with this role
cmd-limits-role--daily_images = Images per day
cmd-limits-role--max_active_jobs = Edits queued or running at once
cmd-limits-role--remove = Remove this role's override
cmd-limits-exempt = Exempt a role from the per-user limits (not the server cap)
cmd-limits-usage = Images used on this server, per member, over recent days

choice-top = Top half
choice-bottom = Bottom half
choice-left = Left half
choice-right = Right half
choice-center = Centre
choice-border = Border
choice-AUTO = Auto
choice-ON = On
choice-OFF = Off
choice-GENERAL = General
choice-REALISTIC = Realistic
choice-DESIGN = Design
choice-FICTION = Fiction
choice-RENDER_3D = Render_3D
choice-ANIME = Anime
choice-TURBO = Turbo
choice-DEFAULT = Default
choice-QUALITY = Quality
