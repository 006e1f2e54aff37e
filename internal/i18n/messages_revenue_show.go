package i18n

// zhRevenueShow holds the Chinese text of the revenue pages' per-unit
// figures, filters, settlement totals and exports.
var zhRevenueShow = map[string]string{
	"Per ad unit":                "按广告单元",
	"Ad unit":                    "广告单元",
	"Merchant's share":           "商户分成",
	"Revenue (WeChat)":           "收入（微信）",
	"Penalties (WeChat)":         "扣罚（微信）",
	"Settled (WeChat)":           "结算金额（微信）",
	"Settled (sum of intervals)": "结算金额（各期合计）",
	"Penalty":                    "扣罚",
	"WeChat's totals are unknown for %d intervals pulled before they were kept; pull those days again to fill them in.": "有 %d 个结算周期是在保存微信合计之前拉取的，其合计未知；重新拉取这些日期即可补齐。",
	"WeChat's totals differ from the sum of its intervals (%s) or of their slots (%s).":                                 "微信的合计与各期合计（%s）或各广告位合计（%s）不一致。",
	"WeChat's totals match the sum of the intervals and of their slots.":                                                "微信的合计与各期合计及各广告位合计一致。",
	"All states":            "全部状态",
	"Any part of the name":  "名称的任意部分",
	"Mini Programs' income": "小程序收入",
	"Show everything":       "显示全部",
	"Narrowed to the Mini Programs and slot chosen above.": "已按上方所选的小程序和广告位筛选。",
	"WeChat reports the split between provider and merchants for all Mini Programs together: narrowed figures are the Mini Programs' own income.": "微信只报告全部小程序合计的服务商与商户分成：筛选后的金额为小程序自身收入。",
}
