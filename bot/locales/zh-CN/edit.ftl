# 检查编辑请求：提示词、选项、蒙版（bot/options.py、bot/imaging/mask.py、cogs/render.py）。

prompt-empty = 请描述要做的编辑：提示词是空的。
prompt-too-long = 提示词太长了（{ $length } 个字符）；上限是 { $limit } 个。请缩短后再试。

option-num-images-range = 图片数量必须在 { $min } 到 { $max } 之间（收到的是 { $got }）。
option-seed-range = 种子必须在 { $min } 到 { $max } 之间（收到的是 { $got }）。
option-model-legacy-only = 只有使用旧版 API 时才能选择模型。
option-style-unavailable = 这里不能使用风格 { $style }；请从 { $choices } 中选择。
option-style-preset-unknown = 未知的风格预设 { $preset }。
option-style-codes-exclusive = 风格代码不能与风格或风格预设同时使用。
option-style-code-format = 风格代码 { $code } 必须是 8 个十六进制字符。
option-v3-only = { $option ->
        [rendering-speed] 渲染速度
        [style-preset] 风格预设
        [color-palette] 调色板
       *[style-codes] 风格代码
    }选项需要 v3 API。
option-palette-preset = 调色板必须是 { $choices } 之一。
option-palette-shape = 调色板可以是一个预设名称，或 1 到 8 种颜色的列表。
option-palette-colour = 颜色 { $colour } 必须是 #RRGGBB 的形式。
option-palette-weight = 颜色权重必须在 0.05 到 1.0 之间。

# 如何说明要修改的区域。$areas 列出区域词，$box 是一个方框示例。
mask-help = 请用以下三种方式之一告诉我要修改哪里：附上一张蒙版（黑色 = 修改，白色 = 保留；如果你的蒙版是白色表示修改，请打开 invert），或者上传一张要修改的区域为透明的图片，或者选择一个区域（{ $areas }）或一个按百分比表示的方框，例如 { $box }。
# 同样的说明，使用 /edit 命令的选项名。
mask-help-edit =
    请用以下三种方式之一告诉我要修改哪一部分：
    1. **mask:** 一张与你的图片形状相同的黑白图 —— 黑色 = 修改，白色 = 保留（画反了？加上 `invert_mask:True`）；
    2. **透明像素：** 在你的图片中擦除要修改的区域，并以 PNG 格式上传；
    3. **region:** 或 **box:** —— 例如 `region:Top half` 或 `box:{ $box }`（宽度和高度的百分比）。
# 表单中“区域”栏的占位提示（cogs/results.py、cogs/edit.py），最多 100 个字符。
mask-area-hint = { $areas }，或一个方框，例如 { $box }

# 蒙版和方框（bot/imaging/mask.py）。
box-help = 请用四个百分比表示方框：左、上、右、下 —— 例如 { $box }。
box-count = 方框需要正好四个数字；我找到了 { $count } 个。{ $help }
box-range = 方框的数值是图片的百分比，从 0 到 100（不是像素）；{ $value } 超出了范围。{ $help }
box-left-right = 方框的左边必须小于右边：收到的是 { $left } 和 { $right }。
box-top-bottom = 方框的上边必须小于下边：收到的是 { $top } 和 { $bottom }。
box-empty = 方框是空的。{ $help }
box-not-a-number = 方框中的“{ $token }”不是数字。{ $help }
mask-shape = 蒙版是 { $mask }，而图片是 { $image }{ $rotated ->
        [yes] （看起来旋转了 90°）
       *[no] {""}
    }：两者的形状必须相同。请按图片的尺寸导出蒙版（等比例缩放的副本也可以）。
mask-nothing-alpha = { $invert ->
        [yes] 你的蒙版没有不透明的区域，所以没有可修改的地方。请关闭 invert。
       *[no] 你的蒙版没有透明的区域，所以没有可修改的地方。请把要修改的区域设为透明。
    }
mask-nothing-inverted = 打开 invert 时，白色表示要修改的区域，但你的蒙版没有白色区域。如果你的蒙版是黑色表示修改，请关闭 invert。
mask-nothing-black = 你的蒙版没有黑色区域，所以没有可修改的地方。请把要修改的区域涂黑、其余保持白色 —— 如果你的蒙版是白色表示修改，请打开 invert。
mask-vanished = 标记的区域太细，在图片缩小以符合大小限制时消失了。请标记更大的区域，或上传更小的图片。
image-cannot-fit = 我无法把这张图片压缩到图像服务的 { $limit } 限制以内。请上传更小或更简单的图片。

# 发送请求前的检查（bot/ideogram/request.py）。
request-file-type = { $file ->
        [mask] 蒙版
       *[image] 图片
    }必须是 PNG、JPEG 或 WebP 格式（收到的是 { $mime }）。
request-file-size = { $file ->
        [mask] 蒙版
       *[image] 图片
    }超过了图像服务 { $megabytes } MB 的上限。
request-sizes-differ = 蒙版（{ $mask }）必须与图片（{ $image }）尺寸相同。

editor-off = 此机器人未开启浏览器内的遮罩编辑器。运营者设置 PUBLIC_URL（用户访问机器人网页服务器的地址）即可开启——见 README 的“Mask editor”一节。
mask-help-editor-off =
    { $help }

    { $editor }
