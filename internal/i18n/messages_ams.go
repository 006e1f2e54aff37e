package i18n

// zhAMS holds the words of the ad-operation writes: their names in the audit
// and what their success says.
var zhAMS = map[string]string{
	"What was asked":               "请求内容",
	"Create ad unit":               "创建广告单元",
	"Change ad unit":               "修改广告单元",
	"Switch cover ads":             "开关封面广告",
	"Set cover-ad scenes":          "设置封面广告场景",
	"Change blocked advertisers":   "修改屏蔽的广告主",
	"Set blocked industries":       "设置屏蔽的行业",
	"Set custom share ratio":       "设置自定义分账比例",
	"Ad unit created.":             "广告单元已创建。",
	"Ad unit changed.":             "广告单元已修改。",
	"Cover ads switched.":          "封面广告已切换。",
	"Cover-ad scenes saved.":       "封面广告场景已保存。",
	"Blocked advertisers changed.": "屏蔽的广告主已修改。",
	"Blocked industries saved.":    "屏蔽的行业已保存。",
	"Custom share ratio set; it takes effect when the merchant confirms it.": "自定义分账比例已提交；商户确认后生效。",
	"The same change for this Mini Program is already in progress.":          "该小程序的同一项修改正在进行中。",
}
