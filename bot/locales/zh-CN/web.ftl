# 蒙版编辑器网页（bot/web/static/editor.html 与 editor.js），使用草稿的语言。

web-title = 画出要修改的区域
web-tools = 工具
web-brush = 画笔
web-brush-key = 画笔（B）
web-eraser = 橡皮擦
web-eraser-key = 橡皮擦（E）
web-rectangle = 矩形
web-rectangle-key = 矩形（R）
web-lasso = 套索
web-lasso-key = 套索（L）
web-magic-wand = 魔棒
web-magic-wand-key = 魔棒（W）
web-wand = 魔棒
web-pan = 平移
web-pan-key = 平移（H，或按住空格键）
web-mask-actions = 蒙版操作
web-invert = 反选
web-invert-key = 反选（I）
web-clear = 清除
web-clear-key = 清除（Delete）
web-undo = 撤销
web-undo-key = 撤销（Ctrl+Z）
web-redo = 重做
web-redo-key = 重做（Ctrl+Shift+Z 或 Ctrl+Y）
web-zoom-out = 缩小
web-zoom-out-key = 缩小（-）
web-zoom-in = 放大
web-zoom-in-key = 放大（+）
web-fit-to-screen = 适应屏幕
web-fit-key = 适应（0）
web-size = 大小
web-brush-size = 画笔大小
web-tolerance = 容差
web-wand-tolerance = 魔棒容差
web-mask = 蒙版
web-drawing-surface = 绘图区
web-hint = 涂抹需要修改的部分（会变成粉色）。图片的其余部分保持不变。
web-prompt = 提示词
web-preview = 预览
web-confirm = 确认
web-preview-alt = 预览：要修改的区域已着色的图片
web-preview-caption = 着色的区域将被重绘。
web-shortcuts = 键盘快捷键
web-keys-tools = 画笔、橡皮擦、矩形、套索、魔棒、平移
web-keys-pan-how = 空格 + 拖动，鼠标中键
web-keys-remove-how = Alt + 拖动，鼠标右键，笔的橡皮端
web-keys-remove = 从区域中移除而不是添加
web-keys-brackets = [ 和 ]
web-keys-brush-size = 缩小 / 放大画笔
web-keys-zoom-how = + / − / 0，鼠标滚轮，双指缩放
web-keys-zoom = 放大、缩小、适应

web-link-until = 此链接只能使用一次，有效期至 { $until }。
web-error-status = 错误 { $status }
web-mark-first = 请先标出要修改的区域：用画笔涂抹，或使用其他工具。
web-making-preview = 正在生成预览……
web-preview-ready = 预览已就绪：着色的区域将被重绘。
web-queueing = 正在将你的编辑加入队列……
web-where-private = 私下发送给你（在 Discord 中）
web-where-posted = 发布在 { $place }
web-queued = ✅ 编辑 #{ $job } 已加入队列。Discord 会在你的私密回复中显示进度；结果将{ $where }。你可以关闭此页面了。
web-could-not-start = 编辑器无法启动：{ $error }

web-error-title = { $status ->
        [403] 链接无效
        [410] 链接已过期
        [409] 已经确认过了
        [404] 未找到
       *[other] 出了点问题
    }
web-error-internal = 机器人这边出了点问题；请重试。
web-someone = 其所有者
web-in = { $hours ->
        [0] { $minutes } 分钟后
       *[other] 约 { $hours } 小时后
    }
