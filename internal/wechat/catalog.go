package wechat

import "sort"

// Class groups result codes by what the caller should do about them.
type Class string

// Classes of result codes; they drive retry and staff-facing advice.
const (
	ClassSuccess        Class = "success"
	ClassAlreadyDone    Class = "already_done"
	ClassRetryable      Class = "retryable"
	ClassRateLimited    Class = "rate_limited"
	ClassNeedsMerchant  Class = "needs_merchant"
	ClassNotYetEligible Class = "not_yet_eligible"
	ClassProviderConfig Class = "provider_config"
	ClassToken          Class = "token"
	ClassOurBug         Class = "our_bug"
	ClassUnknown        Class = "unknown"
)

// CodeInfo explains one result code to staff in English and Chinese.
type CodeInfo struct {
	Code    int
	Class   Class
	Meaning map[string]string // keys "en", "zh"
	Action  map[string]string // keys "en", "zh"
	Known   bool
}

// MeaningIn returns the meaning in lang, falling back to English.
func (i CodeInfo) MeaningIn(lang string) string { return pick(i.Meaning, lang) }

// ActionIn returns the advice in lang, falling back to English.
func (i CodeInfo) ActionIn(lang string) string { return pick(i.Action, lang) }

func pick(m map[string]string, lang string) string {
	if s, ok := m[lang]; ok && s != "" {
		return s
	}
	return m["en"]
}

type row struct {
	class                        Class
	meanEN, meanZH, actEN, actZH string
}

var catalog = map[int]row{
	0:     {ClassSuccess, "Traffic master opened", "流量主开通成功", "Nothing to do", "无需操作"},
	2021:  {ClassAlreadyDone, "Traffic master is already open", "流量主已开通", "Nothing to do", "无需再次操作"},
	-202:  {ClassRetryable, "Internal error at WeChat", "微信内部错误", "Retry after a while", "稍后重试"},
	-1:    {ClassRetryable, "WeChat system busy", "微信系统繁忙", "Retry after a while", "稍后重试"},
	1700:  {ClassOurBug, "Parameter error", "参数错误", "Check the request; this is a bug on our side", "请检查请求参数，这是我方程序的问题"},
	1701:  {ClassOurBug, "Parameter error", "参数错误", "Check the request; this is a bug on our side", "请检查请求参数，这是我方程序的问题"},
	1735:  {ClassNeedsMerchant, "The merchant has not completed the agreement signing", "商户尚未完成协议签署", "Ask the merchant to sign the agreement in WeChat, then retry", "请商户在微信中完成协议签署后重试"},
	1736:  {ClassOurBug, "thirdid is empty: the component token was used instead of the authorizer token", "thirdid 为空：误用了第三方平台令牌，而非授权方令牌", "Call with the authorizer access token; this is a bug on our side", "请改用授权方的 access_token 调用，这是我方程序的问题"},
	1737:  {ClassRateLimited, "Operating too fast", "操作过于频繁", "Wait a minute and retry", "请等待一分钟后重试"},
	1807:  {ClassNeedsMerchant, "Invalid traffic master", "流量主无效", "Open the traffic master for this appid first", "请先为该小程序开通流量主"},
	2009:  {ClassNeedsMerchant, "Invalid traffic master", "流量主无效", "Open the traffic master for this appid first", "请先为该小程序开通流量主"},
	2056:  {ClassProviderConfig, "The service provider has no account in the monetization area", "服务商尚未在变现专区开户", "Open the provider's monetization account on the third-party platform page", "请在第三方平台页面的变现专区开通服务商账户"},
	2013:  {ClassNotYetEligible, "The Mini Program has not reached the threshold of 1,000 unique visitors", "小程序未达到开通流量主的门槛（1000 名独立访客）", "Retry periodically until it qualifies", "待小程序达到门槛后定期重试"},
	40001: {ClassToken, "Access token invalid or not the latest", "access_token 无效或不是最新的", "Refresh the token once and retry once", "刷新令牌后重试一次"},
	40014: {ClassToken, "Invalid access token", "access_token 不合法", "Refresh the token once and retry once", "刷新令牌后重试一次"},
	42001: {ClassToken, "Access token expired", "access_token 已过期", "Refresh the token once and retry once", "刷新令牌后重试一次"},
	45009: {ClassRateLimited, "Daily API quota reached", "接口调用已达到每日上限", "Wait until tomorrow; quotas reset daily", "请等到次日配额重置后再试"},
	48001: {ClassProviderConfig, "API not authorized to this platform", "第三方平台未获得该接口权限", "Apply for the permission on the Open Platform", "请在开放平台申请该接口权限"},
	61003: {ClassNeedsMerchant, "The account has not authorized this platform", "该账号尚未授权给本第三方平台", "Ask the merchant to authorize the platform again", "请商户重新授权本平台"},
	61004: {ClassProviderConfig, "Caller IP is not on the platform's allow-list", "调用方 IP 不在第三方平台的白名单中", "Add the server IP to the allow-list on the Open Platform", "请在开放平台将服务器 IP 加入白名单"},
	61005: {ClassToken, "Component verify ticket expired", "component_verify_ticket 已过期", "Wait for the next ticket push or request one", "请等待下一次票据推送或主动请求推送"},
	61006: {ClassToken, "Component verify ticket invalid", "component_verify_ticket 无效", "Wait for the next ticket push or request one", "请等待下一次票据推送或主动请求推送"},
	61007: {ClassProviderConfig, "API not in the authorized permission set", "该接口不在授权方授予的权限集内", "Ask the merchant to grant the permission set, or fix the platform's permissions", "请商户授予相应权限集，或调整第三方平台的权限配置"},
	61023: {ClassToken, "Refresh token invalid", "refresh_token 无效", "Recover it from the authorizer list, or ask the merchant to authorize again", "请从授权方列表中找回，或请商户重新授权"},
	1803:  {ClassOurBug, "The ad unit name is already used (reported by the community, not in WeChat's pages)", "广告单元名称已被使用（见于社区反馈，官方文档未列出）", "Choose a name no other unit of this Mini Program uses", "请换一个该小程序其他广告单元未使用的名称"},
	2008:  {ClassRateLimited, "Cover ads were switched less than an hour ago", "开屏广告位一小时内已切换过状态", "Retry after the time WeChat gives (next_open_time)", "请在微信给出的时间（next_open_time）之后重试"},
	2035:  {ClassOurBug, "The blocklist is over its cap (20 Official Accounts, 10 iOS apps, 10 Android apps, 20 Mini Programs)", "屏蔽名单超出上限（公众号 20、iOS 应用 10、安卓应用 10、小程序 20）", "Remove entries of that kind before adding more", "请先移除该类别的部分条目再添加"},
	2061:  {ClassSuccess, "No custom share ratio is set: the default applies", "未设置自定义分账比例，适用默认比例", "Nothing to do, or set a custom ratio", "无需操作，或为其设置自定义比例"},
	2067:  {ClassAlreadyDone, "Cover ads are already on", "开屏广告位已开启", "Nothing to do", "无需再次操作"},
	2068:  {ClassRateLimited, "The traffic master was opened less than an hour ago", "流量主开通未满一小时", "Retry an hour after opening", "请在开通满一小时后重试"},
}

func (r row) info(code int) CodeInfo {
	return CodeInfo{
		Code:    code,
		Class:   r.class,
		Meaning: map[string]string{"en": r.meanEN, "zh": r.meanZH},
		Action:  map[string]string{"en": r.actEN, "zh": r.actZH},
		Known:   true,
	}
}

// LookupCode explains a result code; unknown codes get a generic explanation.
func LookupCode(code int) CodeInfo {
	if r, ok := catalog[code]; ok {
		return r.info(code)
	}
	return CodeInfo{
		Code:    code,
		Class:   ClassUnknown,
		Meaning: map[string]string{"en": "Unrecognised result code from WeChat", "zh": "未知的微信返回码"},
		Action:  map[string]string{"en": "Check the raw reply and WeChat's documentation; retry manually if it looks transient", "zh": "请查看原始返回内容和微信文档，如属临时问题可手动重试"},
	}
}

// Codes lists every known code, sorted, for documentation and admin pages.
func Codes() []CodeInfo {
	out := make([]CodeInfo, 0, len(catalog))
	for code, r := range catalog {
		out = append(out, r.info(code))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
