# Checking an edit request: prompt, options, mask (bot/options.py, bot/imaging/mask.py, cogs/render.py).
# Numbers are formatted for the locale; $got values a member typed are shown literally.

prompt-empty = Please describe the edit: the prompt is empty.
prompt-too-long = The prompt is too long ({ $length } characters); the limit is { $limit }. Shorten it and try again.

option-num-images-range = Number of images must be between { $min } and { $max } (got { $got }).
option-seed-range = Seed must be between { $min } and { $max } (got { $got }).
option-model-legacy-only = A model can only be chosen with the legacy API shape.
option-style-unavailable = Style { $style } is not available here; choose one of { $choices }.
option-style-preset-unknown = Unknown style preset { $preset }.
option-style-codes-exclusive = Style codes cannot be combined with a style or a style preset.
option-style-code-format = Style code { $code } must be 8 hexadecimal characters.
option-v3-only = { $option ->
        [rendering-speed] The rendering speed option
        [style-preset] The style preset option
        [color-palette] The colour palette option
       *[style-codes] The style codes option
    } needs the v3 API shape.
option-palette-preset = Colour palette must be one of { $choices }.
option-palette-shape = A colour palette is a preset name or a list of 1 to 8 colours.
option-palette-colour = Colour { $colour } must look like #RRGGBB.
option-palette-weight = A colour weight must be between 0.05 and 1.0.

# How to say which area to change. $areas lists the region words, $box is an example box.
mask-help = Tell me what to change in one of three ways: attach a mask (black = change, white = keep; if yours is white = change, turn on invert), or upload an image whose area to change is transparent, or pick a region ({ $areas }) or a box in percent such as { $box }.
# The same advice in the /edit command's option names.
mask-help-edit =
    Tell me which part to change in one of three ways:
    1. **mask:** a black-and-white image the same shape as yours — black = change, white = keep (painted it the other way round? add `invert_mask:True`);
    2. **transparent pixels:** erase the area to change in your image and upload it as PNG;
    3. **region:** or **box:** — e.g. `region:Top half` or `box:{ $box }` (percent of the width and height).
# The area field's placeholder in the forms (cogs/results.py, cogs/edit.py); at most 100 characters.
mask-area-hint = { $areas }, or a box like { $box }

# The mask and the box (bot/imaging/mask.py). $mask/$image are sizes like 640×480.
box-help = Give the box as four percentages: left, top, right, bottom — for example { $box }.
box-count = A box needs exactly four numbers; I found { $count }. { $help }
box-range = Box values are percentages of the image from 0 to 100 (not pixels); { $value } is out of range. { $help }
box-left-right = The box's left edge must be smaller than its right: got { $left } and { $right }.
box-top-bottom = The box's top edge must be smaller than its bottom: got { $top } and { $bottom }.
box-empty = The box is empty. { $help }
box-not-a-number = “{ $token }” in the box is not a number. { $help }
mask-shape = The mask is { $mask } but the image is { $image }{ $rotated ->
        [yes] {" "}(it looks rotated by 90°)
       *[no] {""}
    }: they need the same shape. Export the mask at the image's size (a scaled copy with the same proportions also works).
mask-nothing-alpha = Your mask has no { $invert ->
        [yes] opaque area, so there is nothing to change. Turn invert off.
       *[no] transparent area, so there is nothing to change. Make the area to change transparent.
    }
mask-nothing-inverted = With invert on, white marks the area to change, but your mask has no white area. Turn invert off if your mask is black where it should change.
mask-nothing-black = Your mask has no black area, so there is nothing to change. Paint the area to change black and keep the rest white — or, if your mask is white where it should change, turn on invert.
mask-vanished = The marked area is so thin that it vanished when the image was shrunk to fit the size limit. Mark a larger area or upload a smaller image.
image-cannot-fit = I couldn't make this image small enough for the image service's { $limit } limit. Upload a smaller or simpler image.

# Checked before the request is sent (bot/ideogram/request.py). $file is image or mask.
request-file-type = The { $file ->
        [mask] mask
       *[image] image
    } must be PNG, JPEG or WebP (got { $mime }).
request-file-size = The { $file ->
        [mask] mask
       *[image] image
    } is larger than the image service's { $megabytes } MB limit.
request-sizes-differ = The mask ({ $mask }) must be the same size as the image ({ $image }).

editor-off = The in-browser mask editor is off on this bot. Its operator can turn it on by setting PUBLIC_URL (the address people reach the bot's web server at) — see the README's “Mask editor” section.
mask-help-editor-off =
    { $help }

    { $editor }
