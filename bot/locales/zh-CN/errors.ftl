# 各处都可能出现的错误（bot/errors.py、cogs/errors.py）。

# 尚未移入目录的文字；在所有语言中原样显示。
error-literal = { $text }
error-internal = 机器人出了点问题。没有扣除任何额度，请再试一次。
error-unexpected = 机器人出了点问题。没有扣除任何额度，请再试一次。
error-operator-notice = 由于机器人一方的配置问题，图像服务暂时不可用。机器人的运营者可以在日志中看到详情；你的图片额度没有被扣除。
error-guild-only = 这个命令只能在服务器中使用。
error-check-failed = 你不能在这里这样做。
error-bad-option-value = { $value } 不是这个选项的有效值。
