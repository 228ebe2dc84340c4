# 服务、存储和 Discord 适配层的拒绝与错误信息。

result-no-image = 该结果没有可编辑的图片（已被扣留或删除）。
result-images-are = 该结果的图片编号为 { $images }，请从中选择。
result-images-range = 该结果的图片编号为 1 到 { $count }，请从中选择。
result-delete-not-yours = 只有发起这次编辑的人或拥有“管理消息”权限的人才能删除它。
editor-result-gone = 该结果已不在机器人的历史记录中，无法编辑。
editor-mask-too-large = 蒙版超过 { $megabytes } MB。
editor-draw-first = 请先画出要修改的区域。
history-no-such-edit = 你没有编辑 #{ $job }。`/history list` 会列出你的编辑。
history-no-images = 编辑 #{ $job } 没有可显示的图片（{ $status }）。
history-not-yours = 你没有编辑 #{ $job }。
history-still-active = 编辑 #{ $job } 仍处于“{ $status }”状态；请先取消或等待它完成。
history-nothing-to-compare = 该编辑没有可对比的图片。
history-someone-elses = 这些是别人的编辑；用 `/history list` 查看你自己的。
history-confirm-not-yours = 只有提问的人才能回答这个问题。
jobs-too-many-at-once = 本机器人一次最多生成 { $count } 张图片，请减少数量。
job-gone = 该编辑已不在机器人的历史记录中（已被删除或过期）。
job-gone-short = 该编辑已不在机器人的历史记录中。
job-not-running = 该编辑已经完成或不再存在。
job-no-such = 没有任务 #{ $job }。
job-cancel-not-yours = 只有发起这次编辑的人（或管理员）才能取消它。
job-cancel-too-late = 任务 #{ $job } 已{ $status }，无法再取消。
job-cancel-just-started = 任务 #{ $job } 刚刚开始，无法再取消。
limits-need-manage-server = 你需要“管理服务器”权限才能修改机器人的限制。
area-region-and-box = `region` 和 `box` 只能二选一。
area-mask-and-region = 蒙版文件和 region/box 只能二选一。
# $areas 列出区域词，$box 是一个方框示例。
area-unknown = 我不认识区域“{ $text }”。请使用 { $areas }，或用百分比表示的方框，例如 { $box }。
image-number-invalid = “{ $value }”不是图片编号；请用 1、2……
session-needs-finished-edit = 只有已完成的编辑才能开启编辑会话。
session-not-private = 私密编辑不能开启编辑会话：会话在子区中公开共享。
session-needs-server = 编辑会话需要在服务器频道中使用。
session-already-version = 该编辑已经是某个编辑会话的一个版本。
session-no-image = 该编辑没有可用来开启会话的图片。
session-gone = 该编辑会话已不存在。
session-closed = 该编辑会话已关闭。可在任意结果上点 🧵 开启新会话。
session-locked = 该会话已锁定：目前只有 { $owner } 可以在这里编辑。
session-other-thread = 该编辑会话属于另一个子区；请在那里使用它的按钮。
session-owner-pays-only = 只有会话所有者 { $owner } 才能让这里的每次编辑都使用其额度。
session-owner-only = 只有会话所有者 { $owner }（或拥有“管理子区”权限的人）才能这样做。
session-open-not-yours = 只有发起这次编辑的 { $requester }（或拥有“管理子区”权限的人）才能在它上面开启会话。
session-no-private-edits = 编辑会话中的编辑会在其子区中共享；请去掉 `private`。
session-head-deleted = 会话的当前版本已被删除；请用 /session revert 选择另一个。
session-head-needs-finished = 只有本会话中已完成的版本才能成为当前版本。
session-version-no-image = 该版本没有图片（已被扣留）。
session-versions-range = 该会话的版本编号为 1 到 { $count }。
session-exists = 该结果已有编辑会话：{ $thread }。
session-thread-failed = Discord 不允许我在该结果上开启子区（{ $reason }）。
session-needs-thread-permission = 我需要在这里拥有“创建公开子区”权限才能开启会话。
session-not-a-version = 该版本不属于任何编辑会话。
session-use-in-thread = 请在编辑会话的子区中使用（在任意结果上点 🧵 开启）。
cannot-post-here = 我无法在这里发消息。
post-missing-permissions = 我无法在这里发布结果：缺少权限 { $permissions }。{ $hint ->
        [private] 请让管理员授予，或使用 `private:True`。
       *[admin] 请让管理员授予。
    }
file-input-gone = 这次编辑的图片已不再保存；请重新上传。
file-image-gone = 该图片已不再保存。
upload-what = { $what ->
        [mask] 蒙版
       *[image] 图片
    }
upload-too-large = { upload-what }大小为 { NUMBER($megabytes, minimumFractionDigits: 1, maximumFractionDigits: 1) } MB，上限为 { $limit } MB。请保存得小一些（例如存为 JPEG）后重试。
upload-download-failed = Discord 没有把{ upload-what }给我（{ $status }）；请重新上传。
upload-not-an-image = `{ $name }` 不是图片。请附上 PNG、JPEG 或 WebP 文件。
edit-image-missing = 请用 `image` 选项附上要编辑的图片（在编辑会话的子区中，会使用会话的当前版本）。
message-unreadable = 我已无法读取那条消息（已被删除，或我没有权限）。
message-images-range = 那条消息的图片编号为 1 到 { $count }。
editor-link-forged = 这个编辑器链接无效。请使用机器人给你的链接，或重新运行命令。
editor-link-expired = 这个编辑器链接已过期。请在 Discord 中重新运行命令以获取新链接。
editor-link-used = 这次编辑已经确认过了；此链接无法再次加入队列。如需再次编辑，请重新运行命令。
editor-image-gone = 这个草稿的图片已不再保存。请在 Discord 中重新运行命令。
editor-mask-size = 蒙版尺寸为 { $mw }×{ $mh }，而图片为 { $iw }×{ $ih }；请重新加载编辑器后再画一次。
editor-session-closed = 这个编辑会话在链接生成后已关闭，因此无法把这次编辑加入其中。
job-failed-restart = 机器人在处理这次编辑时重启了两次，因此已停止。没有扣除额度。
job-failed-internal = 机器人在处理这次编辑时内部出错。没有扣除额度。
