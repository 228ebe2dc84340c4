# 服务器管理员可以修改的限制（bot/limits.py 的 LIMITS）。
limit-window-images = 每位成员每个时间窗口的图片数
limit-window-minutes = 时间窗口长度（分钟）
limit-daily-images = 每位成员每天的图片数
limit-max-active-jobs = 每位成员排队或进行中的编辑数
limit-guild-daily-images = 整个服务器每天的图片数
