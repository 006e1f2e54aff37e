package i18n

// zhAutopen holds the Chinese text of opening on authorization: the
// platform setting, its confirmation and who the system is in the audit.
var zhAutopen = map[string]string{
	"Open on authorization": "授权后自动开通",
	"Switched on":           "已开启",
	"Switched off":          "已关闭",
	"Every Mini Program that newly authorizes the platform is checked and, when WeChat says it can be, opened by the system at once, at the bulk-run rate. Accounts below the 1,000-visitor threshold are left to the daily retry.": "每个新授权本平台的小程序都会立即由系统检查，微信表示可以开通时即由系统按批量任务的速率开通流量主。未达 1000 访问人数门槛的账号交由每日重试处理。",
	"Newly authorized Mini Programs wait for staff to check and open them.": "新授权的小程序等待员工检查并开通。",
	"Changed by %s at %s.":                     "由 %s 于 %s 修改。",
	"Switch on automatic opening":              "开启自动开通",
	"Switch off automatic opening":             "关闭自动开通",
	"Admins change this on the platform page.": "管理员可在平台页面修改此设置。",
	"Switch on opening on authorization? From now on, every Mini Program that newly authorizes the platform is checked and, when WeChat says it can be, its traffic master is opened by the system without asking anyone. Opening cannot be undone.": "开启授权后自动开通？此后每个新授权本平台的小程序都会由系统检查，微信表示可以开通时由系统直接开通流量主，不再征求任何人确认。开通后无法撤销。",
	"The calls are recorded in the audit as made by the system and go at the bulk-run rate. Mini Programs below the 1,000-visitor threshold are retried daily.":                                                                                      "这些调用在审计记录中记为由系统发起，并按批量任务的速率进行。未达 1000 访问人数门槛的小程序每日重试。",
	"Switch off opening on authorization? Newly authorized Mini Programs will wait for staff. Openings already queued are not made.":                                                                                                                 "关闭授权后自动开通？新授权的小程序将等待员工处理，已排队的自动开通也不再执行。",
	"Opening on authorization is off.": "授权后自动开通已关闭。",
	"Opening on authorization is on: newly authorized Mini Programs are checked and opened by the system.": "授权后自动开通已开启：新授权的小程序将由系统检查并开通。",
	"The setting could not be changed; try again.":                                                         "设置未能修改，请重试。",
	"newly authorized Mini Programs are checked and opened by the system, at the bulk-run rate.":           "新授权的小程序由系统按批量任务的速率检查并开通。",
	"Change on the platform page":           "在平台页面修改",
	"System":                                "系统",
	"Platform setting changed":              "平台设置已修改",
	"Only admins change platform settings.": "只有管理员可以修改平台设置。",
}
