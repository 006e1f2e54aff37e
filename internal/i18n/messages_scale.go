package i18n

// zhScale holds the Chinese text of a search that matches more accounts
// than it counts.
var zhScale = map[string]string{
	"%s+": "%s+",
	"More than %s Mini Programs match: counting stops there, so every number above is a lower bound. Narrow the search for exact counts.": "匹配的小程序超过 %s 个：计数到此为止，以上数字均为下限。缩小搜索范围可得到精确计数。",
}
