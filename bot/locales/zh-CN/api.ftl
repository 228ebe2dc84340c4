# 图像服务的回答（bot/ideogram/）。$reason 是服务自己的原话（如果有）。
api-bad-request = 图像服务认为这个请求无效并拒绝了它。
api-bad-request-reason = 图像服务拒绝了这个请求：{ $reason }
api-credits = 机器人的图像服务账户额度已用完或超出了消费上限。机器人的运营者可以在日志中看到详情；你的图片额度没有被扣除。
api-safety = 图像服务的安全检查拒绝了这次编辑。
api-safety-reason = 图像服务的安全检查拒绝了这次编辑：{ $reason }
api-rate-limited = 图像服务现在太忙了。请一分钟后再试。
api-timeout-408 = 图像服务回答得太慢。请再试一次。
api-unavailable = 图像服务现在出了问题（HTTP { $status }）。请稍后再试。
api-unexpected-status = 图像服务返回了意外的错误（HTTP { $status }）。请稍后再试。
