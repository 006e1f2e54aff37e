package i18n

// zhAccounts holds the Chinese text of the Mini Program page, the list's
// paging and selection, and the audit export.
var zhAccounts = map[string]string{
	// The list: position, previous page, selecting every match.
	"Pages":                                 "分页",
	"Previous page":                         "上一页",
	"%s–%s of %s":                           "第 %s–%s 个，共 %s 个",
	"Bulk run over the rows you select, or": "对勾选的行批量执行，或选择",
	"(revoked accounts and Official Accounts are left out)": "（已取消授权的账号和公众号不计入）",
	"all %s matching the filter":                            "符合筛选条件的全部 %s 个小程序",

	// The Mini Program page.
	"Sections":                              "页面分区",
	"Profile":                               "账号资料",
	"History":                               "历史记录",
	"Name":                                  "名称",
	"Authorization revoked":                 "取消授权时间",
	"Next step":                             "下一步",
	"Message for the merchant (in Chinese)": "发给商户的消息（中文）",
	"Copy message":                          "复制消息",
	"Copied.":                               "已复制。",
	"Select the text and copy it.":          "请选中文字后手动复制。",
	"Not part of any bulk run yet.":         "尚未参与任何批量任务。",
	"Runs that include this Mini Program appear here with its result in each.": "包含此小程序的批量任务会显示在这里，并列出它在每个任务中的结果。",
	"Result for this Mini Program":                                             "此小程序的结果",
	"Newest runs":                                                              "最新的任务",
	"Older runs":                                                               "更早的任务",

	// Where the traffic master stands, in plain words.
	"Nobody has checked or opened this Mini Program's traffic master from this console yet.": "尚未有人在本控制台为此小程序检查或开通流量主。",
	"At the last check WeChat said the traffic master can be opened.":                        "最近一次检查时，微信表示可以开通流量主。",
	"At the last check WeChat said the traffic master cannot be opened yet.":                 "最近一次检查时，微信表示暂时不能开通流量主。",
	"The traffic master is open.": "流量主已开通。",
	"WeChat is waiting for the merchant: the traffic master cannot be opened until they act.":                            "微信在等待商户处理：商户完成操作之前无法开通流量主。",
	"The Mini Program has not reached WeChat's threshold of 1,000 unique visitors yet.":                                  "小程序尚未达到微信要求的 1000 名独立访客门槛。",
	"The last attempt met a temporary error at WeChat; the traffic master is not open yet.":                              "最近一次尝试遇到微信的临时错误，流量主尚未开通。",
	"The last attempt failed because of the platform's own WeChat setup; the traffic master is not open.":                "最近一次尝试因第三方平台自身的微信配置问题失败，流量主尚未开通。",
	"WeChat refused the console's request or answered nonsense; the traffic master is not open.":                         "微信拒绝了控制台的请求或返回了无法理解的应答，流量主尚未开通。",
	"The last call may have reached WeChat, but its answer never came: nobody knows whether the traffic master is open.": "最近一次调用可能已到达微信，但没有收到应答：无法确定流量主是否已开通。",

	// The next step.
	"Send the merchant the message below; once they have signed, open the traffic master again.": "请把下面的消息发给商户；商户签署后，再次开通流量主。",
	"Send the merchant the message below; once their traffic master is in order, try again.":     "请把下面的消息发给商户；商户的流量主恢复正常后，再试一次。",
	"Check eligibility, then open the traffic master.":                                           "先检查开通资格，再开通流量主。",
	"Open the traffic master.":                                                     "开通流量主。",
	"Opening may still be tried: WeChat then says why it refuses.":                 "仍可尝试开通：如被拒绝，微信会说明原因。",
	"Nothing: the traffic master is open.":                                         "无需操作：流量主已开通。",
	"Nothing for now: the daily job tries again until the Mini Program qualifies.": "暂时无需操作：每日任务会自动重试，直到小程序达到门槛。",
	"Look at the last attempt below, then try again.":                              "请查看下方最近一次尝试的详情，然后重试。",

	// Why an account is held as revoked.
	"WeChat sent notice that the account revoked its authorization.":           "微信通知：该账号已取消对本平台的授权。",
	"WeChat answered 61003: the account no longer authorizes this platform.":   "微信返回 61003：该账号已不再授权本平台。",
	"The account is no longer in WeChat's list of the platform's authorizers.": "该账号已不在微信返回的本平台授权方列表中。",
}
