package i18n

// zhReliability holds the Chinese text of what runs and attempts say about
// faults: nothing sent, a run that paused itself, a database that is away.
var zhReliability = map[string]string{
	"Nothing reached WeChat (it could not be reached, or no access token could be had). It is safe to try again.": "请求未到达微信（无法连接微信，或未能获取访问令牌）。可以放心重试。",
	"Nothing was sent to WeChat.":                                                                    "未向微信发送任何请求。",
	"Nothing was sent to WeChat: no access token could be obtained.":                                 "未向微信发送任何请求：未能获取访问令牌。",
	"Nothing was sent to WeChat: the connection could not be made.":                                  "未向微信发送任何请求：无法建立连接。",
	"The Mini Program's state could not be read again before the call.":                              "调用前未能重新读取小程序的状态。",
	"The traffic master was opened by another attempt just before this one; WeChat was not called.":  "流量主刚刚已由另一次尝试开通；本次未调用微信。",
	"The run paused itself: WeChat answered %d, which every other account of the run would get too.": "任务已自动暂停：微信返回 %d，该任务中的其他账号也都会得到同样的结果。",
	"Fix the cause, then resume the run: the accounts not yet done are called again.":                "请先排除原因，再继续任务：尚未完成的账号会重新调用。",
	"Database unavailable": "数据库暂不可用",
	"The console cannot reach its database right now, so this request was not carried out. It reconnects by itself: try again in a moment.": "控制台暂时无法连接数据库，本次请求未执行。控制台会自动重新连接，请稍后再试。",
}
