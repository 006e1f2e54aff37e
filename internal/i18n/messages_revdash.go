package i18n

// zhRevdash holds the Chinese text of a query that ran past the console's
// statement timeout (a long custom range on the revenue dashboard, or a
// broad principal).
var zhRevdash = map[string]string{
	"Too slow to answer": "查询超时",
	"This took longer than the console allows for one query, so nothing is shown. The dashboard's fixed periods answer at once; for a custom range, choose a shorter one.":                                              "该查询超过了控制台允许的单次查询时长，因此未显示结果。看板的固定时段可立即显示；自定义时段请选择更短的范围。",
	"This took longer than the console allows for one query, so nothing is shown. A principal that matches thousands of Mini Programs reads every one of their days: type more of its name, or choose a shorter range.": "该查询超过了控制台允许的单次查询时长，因此未显示结果。匹配数千个小程序的主体需要读取它们每一天的数据：请输入更完整的主体名称，或选择更短的时间范围。",
}
