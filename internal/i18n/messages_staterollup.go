package i18n

// zhStateRollup holds the Chinese text of the schedule that keeps the
// revenue dashboard's per-state figures current.
var zhStateRollup = map[string]string{
	"Carry accounts' state changes into the revenue figures per state": "将账号的状态变化计入按状态汇总的收入数据",
	"%d accounts moved to another state":                               "%d 个账号的状态变化已计入",
}
