# 结果无法发到原处时，以及重启打断了命令时（cogs/delivery.py，规则见 bot/delivery.py）。$job 是编辑编号。

delivery-fallback = 我无法在你指定的位置发布编辑 #{ $job }（{ $reason }），所以发在这里。
delivery-reason = { $reason ->
        [gone] 频道或子区已不存在
        [closed] 子区已归档或锁定
        [forbidden] 我没有在那里发言的权限
       *[error] Discord 一直出错
    }
progress-undelivered = ⚠️ 编辑 #{ $job } 已完成，但我无法发布它（{ $reason }），也无法发给你。可在 `/history` 中找到它。
interaction-interrupted = ⚠️ 机器人重启打断了这次操作——没有扣除任何额度，请再试一次。
