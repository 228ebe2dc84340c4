# Discord 适配层（cogs/）显示的内容：按钮、表单、回复、嵌入消息。

## 按钮
button-reroll = 重新生成
button-edit-again = 再次编辑
button-use-as-base = 以此为底图
button-open-thread = 开启子区
button-make-head = 设为当前版本
button-compare = 对比
button-delete = 删除
button-keep = 保留
button-lock = 锁定 / 解锁
button-who-pays = 谁付额度
button-close-session = 关闭会话
button-cancel = 取消
button-draw-mask = 绘制蒙版
button-forged = 这个按钮不属于这条消息。

## 表单
form-edit-again-title = 再次编辑
form-use-as-base-title = 以此为底图
form-edit-image-title = 编辑图片
form-draw-mask-title = 绘制蒙版
form-new-prompt = 新的提示词
form-next-change = 接下来要改什么？
form-changed-area-shows = 修改后的区域应该显示什么？
form-which-image = 哪一张图片（{ $images }）？
form-area-same-mask = 要修改的区域（留空 = 同一个蒙版）
form-area-result = 要修改的区域（留空 = 与该结果相同的蒙版）
form-area-upload = 要修改的区域（留空 = 使用透明像素）
menu-no-image = 那条消息没有附带图片。请在带图片的消息上使用。

## 列表与 Discord 的权限名称（与 Discord 中文界面一致）
list-1 = { $a }
list-2 = { $a }和{ $b }
list-3 = { $a }、{ $b }和{ $c }
permission-name = { $name ->
        [send-messages-in-threads] 在子区中发送消息
        [attach-files] 附加文件
        [embed-links] 嵌入链接
       *[send-messages] 发送消息
    }

## 结果
result-ready = { $requester } 你的编辑完成了。
result-deleted = 已删除编辑 #{ $job } 的结果。{ $kept ->
        [history] 它仍保留在 `/history` 中，直到你在那里删除。
       *[gone] { "" }
    }

## 编辑器链接；地点显示在网页上，不含 Discord 标记
editor-link-button = 画出区域
editor-link-text = 在编辑器中标出要修改的区域：涂抹该区域，检查预览，然后点 **确认**。此链接仅限你本人使用一次，有效期 { $minutes } 分钟。
editor-place-thread = 子区“{ $name }”
editor-place-session-thread = 编辑会话的子区
editor-place-command-channel = 你使用命令的频道

## /history 与 /quota
history-empty = 你还没有任何编辑。试试 `/edit`！
history-no-match = 没有符合该搜索的编辑。
history-header = 你的编辑：第 { $first }–{ $last } 条，共 { $total } 条
history-header-search = 你的编辑：第 { $first }–{ $last } 条，共 { $total } 条，匹配“{ $search }”
history-newer = ◀ 较新
history-older = 较旧 ▶
history-nothing-deleted = 没有删除任何内容。
history-deleted-all = 已删除你的全部历史（{ $count } 个编辑）。{ $kept ->
        [0] { "" }
       *[other] 仍在排队或进行中的 { $kept } 个编辑已保留。
    }
history-delete-gone = 编辑 #{ $job } 已不在你的历史记录中。
history-deleted-one = 已从你的历史记录中删除编辑 #{ $job }。
history-reposted = 已重新发布编辑 #{ $job }：{ $url }
history-reposted-privately = 已发布。
history-delete-one-question = 要从你的历史记录中删除编辑 #{ $job } 及其图片吗？
history-delete-all-question = 要删除你全部 { $count } 个编辑及其图片吗？此操作无法撤销。
history-nothing-to-delete = 你没有可删除的编辑。
quota-title = 你的图片额度
quota-exempt = 你的身份组不受每人限制。
quota-window-name = 每 { $minutes } 分钟
quota-window-left = 剩余 { $left } / { $allowed } 张图片{ $frees }
quota-window-frees = ；下一张将于 { $at } 释放
quota-today-name = 今天
quota-today-left = 剩余 { $left } / { $allowed } 张图片；{ $resets } 重置
quota-at-once-name = 同时进行
quota-at-once = { $active } / { $allowed } 个编辑在排队或进行中
quota-server-name = 本服务器今天
quota-bot-name = 本机器人今天（所有人共用）
quota-images-left = 剩余 { $left } / { $allowed } 张图片

## /queue
queue-title = 队列 — { $running } 个进行中，{ $waiting } 个等待中
queue-running-line = 🎨 **#{ $job }** { $requester } — { $prompt }（已进行 { $duration }）
queue-waiting-line = ⏳ { $position }. **#{ $job }** { $requester } — { $prompt }（约 { $duration } 后开始）
queue-more = …… 还有 { $count } 个。
queue-hidden = …… 还有 { $count } 个是私密的或来自你看不到的频道。
queue-empty = 没有等待中的编辑。🎉
queue-footer = 用 /queue cancel job:<编号> 取消等待中的编辑。
queue-cancelled-by-moderator = 🚫 你的编辑 #{ $job } 已被管理员取消；其图片额度已退还。

## 编辑会话
session-intro-summary = 🧵 **编辑会话 #{ $session }** — 所有者 { $owner }；{ $locked ->
        [yes] 只有 { $owner } 可以编辑
       *[no] 这里的每个人都可以编辑
    }；{ $owner_pays ->
        [yes] 每次编辑都由 { $owner } 支付额度
       *[no] 每位编辑者使用自己的额度
    }。
session-intro-help =
    • 在这里使用 `/edit prompt:…`（无需图片）会编辑当前版本，并沿用其蒙版，除非你提供新的 `mask`、`region` 或 `box`。
    • 每个版本上的按钮：再次编辑、以此为底图、设为当前版本、对比。
    • `/session tree` 显示所有版本；`/session revert version:N` 回到某个版本。
session-saved = 已保存。
session-closed-reply = 会话已关闭；它的版本树仍保留在机器人的历史记录中。
session-closed-notice = 📕 这个编辑会话已关闭。
session-started = 已在 { $thread } 开启编辑会话 #{ $session }。
session-head-now = 编辑 #{ $job } 现在是当前版本：这里的下一次 `/edit` 将从它开始。
session-compare-caption = 编辑 #{ $job } 的前后对比
session-compare-posted = 已发布对比图。
session-reverted = v{ $version }（编辑 #{ $job }）重新成为当前版本。
session-open-failed = 我无法为编辑 #{ $job } 开启子区：{ $reason }
session-tree-title = 会话 #{ $session }：{ $count } 个版本
session-tree-empty = 还没有任何版本。
session-tree-head-mark = 当前版本
session-tree-footer = 当前版本：{ $path } — 这里的下一次 `/edit` 将基于它。
session-tree-more = …… 还有 { $count } 个版本

## /limits
limits-title = 本服务器的限制
limits-default-value = { $value }（默认）
limits-role-exempt = 不受每人限制
# 某个角色对一项限制的取值：每项可按角色设置的限制各有一条（bot/limits.py 的 LimitSpec.role_label）。
limits-role-window = 时段 { $value }
limits-role-daily = 每日 { $value }
limits-role-at-once = 同时 { $value }
limits-role-none = 没有覆盖设置
limits-role-override = 身份组覆盖
limits-more-roles = 更多身份组覆盖
limits-more-roles-value = …… 还有 { $count } 个。
limits-recent-changes = 最近的更改
limits-role-removed = 已移除
limits-audit-default = 默认
limits-set = 已将 **{ $limit }** 设为{ $value ->
        [default] 默认值
       *[other] { $value }
    }。
limits-role-saved = 已保存 { $role } 的限制。
limits-role-removed-note = 已移除 { $role } 的覆盖设置。
limits-exempt-note = { $role } { $exempt ->
        [yes] 现在不受
       *[no] 不再免于
    }每人限制。
limits-usage-line = { $member }：{ $jobs } 个编辑中使用了 { $images } 张图片
limits-usage-more = …… 还有 { $count } 位成员。
limits-usage-total = 最近 { $days } 天共使用 **{ $images } 张图片**。
limits-usage-none = 没有编辑。

## “编辑图片”菜单的蒙版提示
mask-help-menu = 那张图片没有透明区域，请在 **区域** 栏中说明要修改哪一部分：{ $areas }，或百分比方框如 `{ $box }`。
