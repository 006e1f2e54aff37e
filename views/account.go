package views

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// AccountVM is one Mini Program's page: its profile, where its traffic master
// stands and what to do next, its actions, and its history. Later
// capabilities (ad units, revenue) add their own sections.
type AccountVM struct {
	Base
	Account *traffic.Account
	// Last is the account's latest completed attempt, nil when there is none.
	Last *traffic.Attempt
	// Attempts is one page of the account's attempts, newest first; AttemptsNext
	// is the keyset of the following page (0 on the last) and AttemptsBefore
	// the keyset this page was read with (0 on the first).
	Attempts       []*traffic.Attempt
	AttemptsNext   int64
	AttemptsBefore int64
	// Runs is one page of the bulk runs the account was part of, paged the same way.
	Runs       []traffic.AccountRun
	RunsNext   int64
	RunsBefore int64
	CanAct     bool
	// Revenue is the account's ad data over the last 30 days (revenue.templ).
	Revenue *revenue.AccountRevenue
}

// pageURL is the account page with the two history cursors, one of them changed.
func (vm AccountVM) pageURL(attemptsBefore, runsBefore int64, anchor string) string {
	v := url.Values{}
	if attemptsBefore > 0 {
		v.Set("before", itoa(attemptsBefore))
	}
	if runsBefore > 0 {
		v.Set("runs_before", itoa(runsBefore))
	}
	u := "/apps/" + vm.Account.AppID
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u + "#" + anchor
}

// Num writes n with thousands separators (6,064), as both languages write them.
func (b Base) Num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// OutcomeWords is an attempt's outcome in the words the pages use, in the viewer's language.
func (b Base) OutcomeWords(a *traffic.Attempt) string { return b.T(outcomeOrStatus(a)) }

// ActionWords is an action in the words the pages use, in the viewer's language.
func (b Base) ActionWords(a traffic.Action) string { return b.T(actionLabel(a)) }

// StateSentence says in plain words where an account's traffic master stands.
func StateSentence(s traffic.State) string { return traffic.DescribeState(s).Sentence }

// NextStep says what staff do next for the account, in the viewer's language.
func (b Base) NextStep(a *traffic.Account, last *traffic.Attempt) string {
	if r := a.Refusal(); r != "" {
		return b.T(r)
	}
	if MerchantMessage(a) != "" {
		if a.LastCode != nil && *a.LastCode == 1735 {
			return b.T("Send the merchant the message below; once they have signed, open the traffic master again.")
		}
		return b.T("Send the merchant the message below; once their traffic master is in order, try again.")
	}
	if n := traffic.DescribeState(a.State).NextStep; n != "" {
		return b.T(n)
	}
	if last != nil {
		if r := b.Remedy(last); r != "" {
			return r
		}
	}
	return b.T("Look at the last attempt below, then try again.")
}

// merchantCodes are the answers only the merchant can resolve, in their own
// Mini Program's admin console.
var merchantCodes = map[int]bool{1735: true, 1807: true, 2009: true}

// MerchantMessage is a message in Chinese, ready to send to the merchant,
// explaining what they must do in WeChat when the account waits for them
// (1735: the agency agreement is not signed; 1807/2009: the traffic master is
// not valid). It is "" when there is nothing to ask of the merchant.
func MerchantMessage(a *traffic.Account) string {
	if a.State != traffic.StateNeedsMerchant || a.LastCode == nil || !merchantCodes[*a.LastCode] || a.Refusal() != "" {
		return ""
	}
	name := a.NickName
	if name == "" {
		name = "您的小程序"
	}
	head := "您好！我们在为小程序「" + name + "」（AppID：" + a.AppID + "）开通流量主时，"
	login := "1. 请小程序管理员在电脑浏览器打开 https://mp.weixin.qq.com ，用管理员微信扫码，登录该小程序的管理后台；\n"
	if *a.LastCode == 1735 {
		return head + "微信返回：商户尚未完成协议签署流程（错误码 1735）。开通前需要您同意由我们（第三方服务商）代为开通和运营流量主。\n\n" +
			"请按以下步骤操作：\n" + login +
			"2. 进入「流量主」页面（部分账号在左侧菜单「推广」下），按页面提示阅读并签署流量主相关协议，包括同意服务商代为开通和运营流量主（流量主代运营）的协议；\n" +
			"3. 如页面提示需要重新授权第三方平台，请按提示完成授权。\n\n" +
			"完成后请告诉我们，我们会马上为您再次开通。谢谢！"
	}
	return head + "微信返回：流量主无效（错误码 " + strconv.Itoa(*a.LastCode) + "）。\n\n" +
		"请按以下步骤操作：\n" + login +
		"2. 进入「流量主」页面（部分账号在左侧菜单「推广」下），查看流量主是否已开通、是否被暂停或封禁，并按页面提示完成开通、签署协议或整改；\n" +
		"3. 如收到违规通知，请先按通知完成整改。\n\n" +
		"处理完成后请告诉我们，我们会马上为您再次操作。谢谢！"
}

// revokedReason says why the console holds an account as revoked, from the
// reason the platform recorded.
func revokedReason(reason string) string {
	switch reason {
	case "unauthorized push":
		return "WeChat sent notice that the account revoked its authorization."
	case "not authorized (61003)":
		return "WeChat answered 61003: the account no longer authorizes this platform."
	case "not in the authorizer list":
		return "The account is no longer in WeChat's list of the platform's authorizers."
	}
	return reason
}

func runItemWords(b Base, r traffic.AccountRun) string {
	if r.Outcome != "" {
		return b.T(OutcomeLabel(r.Outcome))
	}
	return b.T(runItemLabel(r.ItemState))
}

func runItemClass(r traffic.AccountRun) string {
	if r.Outcome != "" {
		return "badge " + outcomeClass(r.Outcome)
	}
	if r.ItemState == traffic.ItemCancelled || r.ItemState == traffic.ItemSkipped {
		return "badge info"
	}
	return "badge warn"
}
