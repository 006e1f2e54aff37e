package i18n

// zhStateRollup holds the Chinese text of the schedule that keeps the
// revenue dashboard's per-state and per-principal figures current.
var zhStateRollup = map[string]string{
	"Carry state changes, new or renamed authorizers, and pulled days into the revenue figures by state and principal": "将状态变化、新增或更名的授权方及新拉取的日期计入按状态和主体汇总的收入数据",
	"%d accounts moved to another state, %d authorizers added or renamed, %d days summed per principal":                "%d 个账号的状态变化、%d 个新增或更名的授权方已计入，按主体汇总 %d 天",
	"Choose the principals whose revenue figures are kept summed":                                                      "选择保留汇总收入数据的主体",
	"%d texts of principals kept in %d groups":                                                                         "保留 %d 个主体名称片段，共 %d 组",
}
