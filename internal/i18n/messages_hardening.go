package i18n

// zhHardening holds the Chinese text of the sign-in throttle, input checks,
// password change and authorization-callback messages.
var zhHardening = map[string]string{
	"The request contains characters that are not allowed (such as a NUL byte). Remove them and try again.": "请求中含有不允许的字符（如 NUL 字节），请删除后重试。",
	"Your account": "我的账号",
	"Changing your password ends all your sessions; sign in again with the new one.": "修改密码后你的所有会话都会结束，请用新密码重新登录。",
	"Current password":                                     "当前密码",
	"Change password":                                      "修改密码",
	"Enter your current password.":                         "请输入当前密码。",
	"The current password is wrong.":                       "当前密码不正确。",
	"Your password was changed. Sign in with the new one.": "密码已修改，请用新密码登录。",
	"Change your own password on your account page; it asks for the current one.":                                                 "请在“我的账号”页面修改自己的密码，需要输入当前密码。",
	"The authorization could not be completed: it was not started from this session. Start it again with the authorization link.": "无法完成授权：该授权不是从当前会话发起的，请重新使用授权链接。",
	"The server is busy. Try again in a moment.":                                                                                  "服务器繁忙，请稍后再试。",
	"Too many sign-in attempts for this username. Wait %d seconds and try again.":                                                 "该用户名的登录尝试过多，请 %d 秒后再试。",
}
