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
    3. **region:** or **box:** — e.g. `region:Top half` or `box:10,10,60,50` (percent of the width and height).
mask-area-hint = { $areas }, or a box like { $box }
