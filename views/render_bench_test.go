package views

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// pageOfAccounts is a list page of 50 accounts as the generator makes them:
// names and principals in Chinese, most with a last attempt.
func pageOfAccounts(lang i18n.Lang, role core.Role) AccountsVM {
	at := time.Date(2026, 11, 25, 23, 59, 58, 0, time.UTC)
	counts := map[traffic.State]int{}
	for i, s := range traffic.States {
		counts[s] = 100 * i
	}
	vm := AccountsVM{Base: Base{Title: "Mini Programs", Lang: lang, CSRF: "csrf-token-0123456789abcdef", Staff: &core.Staff{ID: 3, Username: "operator", Role: role},
		Nav: "apps", Loc: time.UTC, Path: "/"}, Counts: counts, Total: 3000, Next: "next-key", Start: 1, Matching: 3000, Runnable: 2900,
		CanAct: role.AtLeast(core.RoleOperator)}
	for i := range 50 {
		id, code := int64(1000+i), []int{0, 2013, -202}[i%3]
		a := &traffic.Account{AppID: "wx" + itoa(int64(0x1000000000000+i)), NickName: "花间小程序" + itoa(int64(i)), PrincipalName: "深圳市花间科技有限公司",
			IsMiniProgram: i%17 != 0, AccountStatus: []int{1, 1, 1, 18, 16}[i%5], State: traffic.States[i%len(traffic.States)],
			HeadImg: "http://wx.qlogo.cn/mmopen/abc" + itoa(int64(i))}
		if i%4 != 0 {
			a.LastAttemptID, a.LastAttemptAt, a.LastOutcome, a.LastCode = &id, &at, traffic.OutcomeSuccess, &code
		}
		vm.Accounts = append(vm.Accounts, a)
	}
	return vm
}

// pageOfAttempts is an audit page of 50 entries.
func pageOfAttempts(lang i18n.Lang) AuditVM {
	at := time.Date(2026, 11, 25, 16, 0, 1, 0, time.UTC)
	vm := AuditVM{Base: Base{Title: "Audit history", Lang: lang, CSRF: "csrf-token-0123456789abcdef", Staff: &core.Staff{ID: 3, Username: "operator", Role: core.RoleOperator},
		Nav: "audit", Loc: time.UTC, Path: "/audit"}, Staff: []core.Staff{{ID: 3, Username: "operator"}, {ID: 4, Username: "admin"}}, Next: 900, IsFirst: true}
	staff := int64(3)
	for i := range 50 {
		code := []int{0, 2013, -202}[i%3]
		o := traffic.Outcomes[i%len(traffic.Outcomes)]
		a := &traffic.Attempt{ID: int64(1000 - i), AppID: "wx" + itoa(int64(0x1000000000000+i)), AccountName: "花间小程序" + itoa(int64(i)),
			Action: traffic.Actions[i%2], StartedAt: at.Add(-time.Duration(i) * time.Minute), Status: traffic.AttemptCompleted,
			Outcome: o.Outcome, Code: &code, Message: "ok", LatencyMS: 120, StaffID: &staff, StaffName: "operator"}
		if o.Outcome == "" {
			a.Status = traffic.AttemptPending
		}
		vm.Attempts = append(vm.Attempts, a)
	}
	return vm
}

// BenchmarkRenderPage renders a list page and an audit page of 50 rows, the
// templates' share of BenchmarkPageCost (web), without the server around them.
func BenchmarkRenderPage(b *testing.B) {
	ctx := context.Background()
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		list, audit := pageOfAccounts(lang, core.RoleOperator), pageOfAttempts(lang)
		b.Run("list-"+string(lang), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := AccountsPage(list).Render(ctx, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("audit-"+string(lang), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := AuditPage(audit).Render(ctx, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
