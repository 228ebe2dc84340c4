# 斜杠命令的说明、选项说明和选项值名称（cogs/translator.py）。Discord 限制为最多 100 个字符。

cmd-edit = 用提示词修改图片的一部分
cmd-edit--prompt = 修改后的区域应该显示什么
cmd-edit--image = 要编辑的图片（在编辑会话帖子中可省略）
cmd-edit--mask = 黑色 = 修改，白色 = 保留（或使用 invert_mask、透明、region 或 box）
cmd-edit--region = 修改图片的一整块区域，而不用画蒙版
cmd-edit--box = 修改一个矩形：x1,y1,x2,y2，单位为百分比，例如 10,20,60,80
cmd-edit--invert_mask = 我的蒙版用白色表示要修改的地方
cmd-edit--seed = 精确重现一个结果（相同输入 + 相同种子）
cmd-edit--count = 要生成几个版本
cmd-edit--magic_prompt = 让 API 改进提示词
cmd-edit--style = 编辑的风格
cmd-edit--speed = 越快越便宜；质量优先则更慢
cmd-edit--private = 只有你能看到结果
cmd-edit--thread = 在结果上开启一个编辑会话帖子
menu-edit-image = 编辑图片

cmd-history = 你过去的编辑
cmd-history-list = 你的编辑，最新的在前
cmd-history-list--search = 只显示提示词中包含这段文字的编辑
cmd-history-show = 重新发布一次过去的编辑，并附上按钮
cmd-history-show--job = 编辑的编号（#123）
cmd-history-delete = 删除一条编辑，或你的全部历史
cmd-history-delete--job = 编辑的编号；留空则删除全部
cmd-quota = 你还能生成多少张图片，以及限制何时重置

cmd-queue = 本服务器正在等待的编辑
cmd-queue-show = 本服务器正在进行和等待的编辑
cmd-queue-cancel = 取消一个尚未开始的编辑（你自己的；版主可取消任何人的）
cmd-queue-cancel--job = 编辑的编号（#123）

cmd-session = 这个帖子中的编辑会话
cmd-session-tree = 这个会话的所有版本及其关系
cmd-session-revert = 让较早的版本重新成为当前版本
cmd-session-revert--version = /session tree 中的版本号
cmd-session-settings = 所有者：谁可以编辑、谁来付费
cmd-session-settings--locked = 只有所有者可以编辑
cmd-session-settings--owner_pays = 每次编辑都计入所有者的额度
cmd-session-close = 所有者：关闭这个会话并归档帖子

cmd-limits = 查看和修改本服务器的图片限制
cmd-limits-show = 显示本服务器的限制、角色覆盖设置和最近的更改
cmd-limits-set = 修改一项限制（值留空则使用默认值）
cmd-limits-set--limit = 哪一项限制
cmd-limits-set--value = 新的值；0 表示禁止编辑；留空 = 机器人默认值
cmd-limits-role = 为某个角色设置单独的每位成员限制
cmd-limits-role--role = 角色
cmd-limits-role--window_images = 拥有该角色的成员每个时间窗口的图片数
cmd-limits-role--daily_images = 每天的图片数
cmd-limits-role--max_active_jobs = 同时排队或进行中的编辑数
cmd-limits-role--remove = 移除该角色的覆盖设置
cmd-limits-exempt = 让某个角色不受每位成员限制的约束（服务器上限仍然有效）
cmd-limits-usage = 最近几天本服务器每位成员用掉的图片数

choice-top = 上半部分
choice-bottom = 下半部分
choice-left = 左半部分
choice-right = 右半部分
choice-center = 中间
choice-border = 边缘
choice-AUTO = 自动
choice-ON = 开
choice-OFF = 关
choice-GENERAL = 通用
choice-REALISTIC = 写实
choice-DESIGN = 设计
choice-FICTION = 幻想
choice-RENDER_3D = 3D 渲染
choice-ANIME = 动漫
choice-TURBO = 极速
choice-DEFAULT = 默认
choice-QUALITY = 高质量
