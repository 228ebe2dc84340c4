# 进度、结果嵌入和历史记录（cogs/render.py）。$job 是编辑的编号。

images-count = { $count } 张图片
duration-seconds = { $seconds } 秒
duration-minutes = { $minutes } 分 { $seconds } 秒
progress-queued = ⏳ 编辑 #{ $job } 正在排队 —— 第 { $position } 位，共 { $total } 位，{ $start }开始。
progress-memory = ⏳ 正在等待内存来处理你的图片 —— 第 { $position } 位。不会因此被拒绝；前面的图片处理完就开始。
progress-start-next = 下一个
progress-start-in = 大约 { $duration } 后
progress-running = 🎨 编辑 #{ $job } 正在生成…
progress-running-for = 🎨 编辑 #{ $job } 正在生成（{ $duration }）…
progress-ready-link = ✅ 编辑 #{ $job } 已完成：{ $url }{ $withheld }
progress-ready-private = ✅ 编辑 #{ $job } 已完成（已私下发给你）。{ $withheld }
progress-withheld = { $count } 张图片被安全过滤器拦下。
progress-cancelled = 🚫 编辑 #{ $job } 已取消；其 { $count } 张图片的额度已退还。
progress-failed = ❌ 编辑 #{ $job } 失败：{ $reason }
progress-failed-unknown = 未知错误。

options-speed = 速度 { $value }
options-style = 风格 { $value }
options-magic-prompt = 魔法提示词 { $value }
options-preset = 预设 { $value }
options-model = 模型 { $value }
options-defaults = 默认

result-title = 编辑 #{ $job }
result-prompt-used = API 实际使用的提示词
result-seeds = 种子
result-withheld = 已拦下
result-withheld-images = 第 { $images } 张图片被安全过滤器拦下。
result-options = 选项
result-requested-by = 请求者
result-from = 来自
result-from-job = 编辑 #{ $job }（{ $action }）
result-footer = 使用下面的按钮重新生成、再次编辑或继续编辑。

history-link = { " " }· [结果]({ $url })
job-status = { $status ->
        [queued] 排队中
        [running] 进行中
        [succeeded] 已完成
        [failed] 失败
       *[cancelled] 已取消
    }
