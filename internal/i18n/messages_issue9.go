package i18n

// zhHardening holds the Chinese text of the sign-in throttle, input checks,
// password change and authorization-callback messages.
var zhHardening = map[string]string{
	"The request contains characters that are not allowed (such as a NUL byte). Remove them and try again.": "请求中含有不允许的字符（如 NUL 字节），请删除后重试。",
	"The server is busy. Try again in a moment.":                                                            "服务器繁忙，请稍后再试。",
	"Too many sign-in attempts for this username. Wait %d seconds and try again.":                           "该用户名的登录尝试过多，请 %d 秒后再试。",
}

func init() { zhTables = append(zhTables, zhHardening) }
