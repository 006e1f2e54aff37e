package wechatsim

import (
	"fmt"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Action names of the traffic-master calls that demos script.
const (
	ActionCheck  = "agency_check_can_open_publisher"
	ActionCreate = "agency_create_publisher"
)

// DemoAccount is a demo authorizer with the behaviour it is scripted to show.
type DemoAccount struct {
	Authorizer
	Note   string    // which outcome this account demonstrates
	Check  *Behavior // nil = unscripted (can open)
	Create *Behavior // nil = unscripted (opens, then 2021)
}

func demoAppID(i int) string { return fmt.Sprintf("wx%016x", uint64(0xde0000000000)+uint64(i)) }

// DemoAuthorizers returns accounts covering every create outcome in the catalog,
// transport failures, Official Accounts, empty nick names, and banned/frozen accounts.
func DemoAuthorizers() []DemoAccount {
	can := &Behavior{Status: 1}
	cannot := &Behavior{Status: 0}
	ret := func(code int) *Behavior { return &Behavior{Ret: code} }
	errc := func(code int) *Behavior { return &Behavior{Ret: code, Shape: "errcode"} }
	mp := []struct {
		name, note    string
		check, create *Behavior
		status        int
	}{
		{"鲜果日记", "opens on first try (ret 0)", nil, nil, 1},
		{"晨光书店", "opens on first try (ret 0)", nil, nil, 1},
		{"城市骑行助手", "already open (2021)", can, ret(2021), 1},
		{"小鹿优选", "WeChat internal error (-202), always", can, ret(-202), 1},
		{"云端记账", "WeChat internal error (-202) twice, then opens", can, &Behavior{Ret: -202, Times: 2}, 1},
		{"拼图大师", "parameter error (1700)", can, ret(1700), 1},
		{"天气早知道", "parameter error (1701)", can, ret(1701), 1},
		{"花间茶舍", "merchant has not signed the agreement (1735)", can, ret(1735), 1},
		{"健身打卡", "operating too fast (1737) once, then opens", can, &Behavior{Ret: 1737, Times: 1}, 1},
		{"萌宠相册", "operating too fast (1737), always", can, ret(1737), 1},
		{"汉字消消乐", "invalid traffic master (1807)", can, ret(1807), 1},
		{"宝宝识字", "invalid traffic master (2009)", can, ret(2009), 1},
		{"极简番茄钟", "provider has no monetization account (2056)", can, ret(2056), 1},
		{"社区团购站", "below 1,000 UV threshold (2013); check says cannot", cannot, ret(2013), 1},
		{"旅行清单", "check says cannot, create succeeds anyway", cannot, nil, 1},
		{"答题王者", "WeChat system busy (-1)", can, ret(-1), 1},
		{"收纳小帮手", "API not authorized to the platform (48001, errcode shape)", errc(48001), errc(48001), 1},
		{"家常菜谱", "not in authorized permission set (61007, errcode shape)", can, errc(61007), 1},
		{"星座运势", "merchant signing missing, errcode shape (1735)", can, errc(1735), 1},
		{"象棋残局", "unknown code (99999)", can, ret(99999), 1},
		{"快递查询通", "HTTP 502 from the gateway", can, &Behavior{HTTPStatus: 502}, 1},
		{"每日一句", "200 with an HTML body", can, &Behavior{Garbage: true}, 1},
		{"慢速相机", "slow: answers after 3s, then opens", can, &Behavior{Delay: 3 * time.Second}, 1},
		{"卡住的小程序", "hangs until the caller gives up (unknown outcome)", can, &Behavior{Hang: true}, 1},
		{"", "empty nick name; opens", nil, nil, 1},
		{"违规小游戏", "banned account (status 16): invalid traffic master", cannot, ret(2009), 16},
		{"冻结商城", "frozen account (status 19): merchant must act", cannot, ret(1735), 19},
	}
	var out []DemoAccount
	for i, m := range mp {
		out = append(out, DemoAccount{
			Authorizer: Authorizer{
				AppID:         demoAppID(i + 1),
				NickName:      m.name,
				HeadImg:       fmt.Sprintf("http://wx.qlogo.cn/mmopen/demo%02d/0", i+1),
				PrincipalName: "演示商户有限公司",
				MiniProgram:   true,
				AccountStatus: m.status,
				Categories:    []wechat.Category{{First: "工具", Second: "效率"}},
			},
			Note: m.note, Check: m.check, Create: m.create,
		})
	}
	for j, name := range []string{"演示服务号", "城市资讯订阅号", ""} {
		i := len(mp) + j + 1
		out = append(out, DemoAccount{
			Authorizer: Authorizer{AppID: demoAppID(i), NickName: name, PrincipalName: "演示传媒有限公司", AccountStatus: 1},
			Note:       "Official Account: not a Mini Program (48001 if called)",
		})
	}
	return out
}

// AddDemoAccounts registers accounts and their scripted behaviour.
func (s *Sim) AddDemoAccounts(accounts []DemoAccount) {
	for _, a := range accounts {
		s.AddAuthorizer(a.Authorizer)
		if a.Check != nil {
			s.Script(a.AppID, ActionCheck, *a.Check)
		}
		if a.Create != nil {
			s.Script(a.AppID, ActionCreate, *a.Create)
		}
	}
}
