package i18n

// zhWeChat holds the Chinese text of the wechat pages.
var zhWeChat = map[string]string{}
