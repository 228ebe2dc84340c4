# 运营者设置（issue 10）：机器人的每日预算、服务器上限的天花板、机器人服务的服务器与场所。

quota-off-bot = 本机器人目前已关闭图片编辑（运营者将每日预算设为 0 张图片）。
quota-bot-daily = 本机器人已用掉今天 { $allowed } 张图片预算中的 { $used } 张（所有服务器合计），而这次编辑需要 { $requested } 张。机器人的预算在 UTC 午夜重置，即 { $when }。{ $fewer }
quota-cap-bot-daily = 机器人的每日预算

limits-above-ceiling = 在本机器人上，{ $limit }最多只能设为 { $ceiling }：这是运营者设定的上限（{ $setting }）。

served-not-here = 本机器人在此服务器不可用：运营者只在其选定的服务器中运行它。
served-no-dms = 私信中不能进行编辑。请在本机器人所在的服务器中使用 `/edit`。
