package i18n

// zhConsole holds the Chinese text of the console pages.
var zhConsole = map[string]string{}
