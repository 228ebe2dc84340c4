# The mask editor's web page (bot/web/static/editor.html and editor.js), in the draft's locale.
# The English names of the controls are also their accessible names (the browser tests use them).

web-title = Draw the area to change
web-tools = Tools
web-brush = Brush
web-brush-key = Brush (B)
web-eraser = Eraser
web-eraser-key = Eraser (E)
web-rectangle = Rectangle
web-rectangle-key = Rectangle (R)
web-lasso = Lasso
web-lasso-key = Lasso (L)
web-magic-wand = Magic wand
web-magic-wand-key = Magic wand (W)
web-wand = Wand
web-pan = Pan
web-pan-key = Pan (H, or hold Space)
web-mask-actions = Mask actions
web-invert = Invert
web-invert-key = Invert (I)
web-clear = Clear
web-clear-key = Clear (Delete)
web-undo = Undo
web-undo-key = Undo (Ctrl+Z)
web-redo = Redo
web-redo-key = Redo (Ctrl+Shift+Z or Ctrl+Y)
web-zoom-out = Zoom out
web-zoom-out-key = Zoom out (-)
web-zoom-in = Zoom in
web-zoom-in-key = Zoom in (+)
web-fit-to-screen = Fit to screen
web-fit-key = Fit (0)
web-size = Size
web-brush-size = Brush size
web-tolerance = Tolerance
web-wand-tolerance = Wand tolerance
web-mask = Mask
web-drawing-surface = drawing surface
web-hint = Paint over what should change (it turns pink). The rest of the image is kept.
web-prompt = Prompt
web-preview = Preview
web-confirm = Confirm
web-preview-alt = Preview: the image with the area to change tinted
web-preview-caption = The tinted area will be repainted.
web-shortcuts = Keyboard shortcuts
web-keys-tools = Brush, Eraser, Rectangle, Lasso, Magic wand, Pan
web-keys-pan-how = Space + drag, middle button
web-keys-remove-how = Alt + drag, right button, pen eraser
web-keys-remove = Remove from the area instead of adding
web-keys-brackets = [ and ]
web-keys-brush-size = Smaller / larger brush
web-keys-zoom-how = + / − / 0, mouse wheel, pinch
web-keys-zoom = Zoom in, out, fit

# What the page's script says ({ $…} values are filled in by the script)
web-link-until = This link works once, until { $until }.
web-error-status = Error { $status }
web-mark-first = Mark the area to change first: paint over it with the brush, or use another tool.
web-making-preview = Making the preview…
web-preview-ready = Preview ready: the tinted area will be repainted.
web-queueing = Queueing your edit…
web-where-private = sent to you privately in Discord
web-where-posted = posted in { $place }
web-queued = ✅ Edit #{ $job } is queued. Discord shows its progress in your private reply; the result will be { $where }. You can close this page.
web-could-not-start = The editor could not start: { $error }

# Error pages and answers
web-error-title = { $status ->
        [403] Link not valid
        [410] Link expired
        [409] Already confirmed
        [404] Not found
       *[other] Something went wrong
    }
web-error-internal = Something went wrong on the bot's side; try again.
web-someone = its owner
# a relative time on the page ($hours is 0 below 90 minutes)
web-in = { $hours ->
        [0] in { $minutes ->
            [one] a minute
           *[other] { $minutes } minutes
        }
       *[other] in about { $hours } hours
    }
