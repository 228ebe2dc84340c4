# 配额拒绝（bot/quota.py）。所有数量都以图片计，这是图像服务计费的单位。
# 中文没有复数形式，但保留相同的参数。

quota-off-guild = 本服务器已关闭图片编辑（每日上限为 0 张图片）。
quota-off-user = 你在这里的图片编辑已被关闭（你的上限为 0）。如果你认为这是误会，请联系服务器管理员。

quota-window = 你已用掉每 { $period } { $allowed } 张图片中的 { $used } 张，而这次编辑需要 { $requested } 张。你可以在 { $when } 再次编辑。{ $fewer }
quota-daily = 你已用掉今天 { $allowed } 张图片中的 { $used } 张，而这次编辑需要 { $requested } 张。你的每日额度在 UTC 午夜重置，即 { $when }。{ $fewer }
quota-guild-daily = 本服务器已用掉今天 { $allowed } 张图片中的 { $used } 张，而这次编辑需要 { $requested } 张。服务器的额度在 UTC 午夜重置，即 { $when }。{ $fewer }
quota-active = { $used ->
        [1] 你已经有一个编辑在排队或进行中。它完成后你就可以开始下一个。
       *[other] 你已经有 { $used } 个编辑在排队或进行中，这是同时允许的最大数量。你的 { $used } 个编辑中任何一个完成后，你就可以开始下一个。
    }
quota-too-many = 这次编辑需要 { $requested } 张图片，但{ $which }是 { $allowed } 张，永远不够。请最多要 { $allowed } 张。

quota-cap-window = 你每 { $period } 的上限
quota-cap-daily = 你的每日上限
quota-cap-guild-daily = 本服务器的每日上限
quota-cap-any = 你的上限

quota-when = { $retry_in }（{ $retry_at }）
quota-when-later = 稍后
quota-fewer = 或者现在先要 { $count } 张图片。

period-window = 时间窗口
period-days = { $count } 天
period-hours = { $count } 小时
period-minutes = { $count } 分钟
period-seconds = { $count } 秒

# 编辑会话由所有者付费、且所有者的上限已到时（$owner 是所有者）。
quota-payer = 这个会话的所有者 { $owner } 为其中的编辑付费，而所有者的上限已到。{ $refusal } 所有者可以切换 💳 谁付费，让每位编辑者使用自己的额度。
quota-off-user-payer = 所有者在这里的图片编辑已被关闭（其上限为 0）。
quota-window-payer = 所有者已用掉每 { $period } { $allowed } 张图片中的 { $used } 张，而这次编辑需要 { $requested } 张。这里的编辑可以在 { $when } 继续。{ $fewer }
quota-daily-payer = 所有者已用掉今天 { $allowed } 张图片中的 { $used } 张，而这次编辑需要 { $requested } 张。其每日额度在 UTC 午夜重置，即 { $when }。{ $fewer }
quota-too-many-payer = 这次编辑需要 { $requested } 张图片，但{ $which }是 { $allowed } 张，永远不够。请最多要 { $allowed } 张。
quota-cap-window-payer = 所有者每 { $period } 的上限
quota-cap-daily-payer = 所有者的每日上限
quota-cap-any-payer = 所有者的上限
