package views

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// The messages rows fill in the arena must split at their verbs in both
// languages, and fill must write what fmt would.
func TestRowMessagesFillWithoutFmt(t *testing.T) {
	t.Parallel()
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		b := Base{Lang: lang}
		w := newRowWords(b)
		for _, c := range []struct {
			m    message
			key  string
			args []any
			strs []string
		}{
			{w.selectApp, "Select %s", []any{"wx1234567890abcdef"}, []string{"wx1234567890abcdef"}},
			{w.confirmOpen, "Open the traffic master of %s (%s)? WeChat is called at once, and opening cannot be undone.", []any{"花间 & <b>", "wx1"}, []string{"花间 & <b>", "wx1"}},
			{w.confirmUnknown, "The outcome of the last attempt for %s (%s) is unknown: it may already be open. Check eligibility first. Open the traffic master anyway? This cannot be undone.", []any{"n", "wx2"}, []string{"n", "wx2"}},
			{newMessage(b, "Run #%d"), "Run #%d", []any{int64(42)}, []string{"42"}},
		} {
			require.NotNil(t, c.m.parts, "%s splits at its verbs in %s", c.key, lang)
			z := newArena(0, 0)
			var got string
			z.fill(&got, c.m, c.strs...)
			z.done()
			require.Equal(t, b.T(c.key, c.args...), got)
		}
	}
	// A verb fill does not know is left to fmt.
	m := message{format: "%q of %s"}
	require.Equal(t, `"a" of b`, m.sprint([]string{"a", "b"}))
	require.Nil(t, newMessage(Base{}, "%q of %s").parts)
	require.Nil(t, newMessage(Base{}, "100%").parts)
}

func TestArenaCutsEveryStringFromOneBuffer(t *testing.T) {
	t.Parallel()
	z := newArena(4, 1)
	var a, b, c, d, e string
	z.join(&a, "app-", "wx1")
	start := z.mark()
	z.add("#result-", "wx1")
	z.keep(&b, start)
	z.keep(&c, start+1)
	z.int(&d, "/audit/", -42)
	z.times(&e, new(string), Base{}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	z.done()
	require.Equal(t, []string{"app-wx1", "#result-wx1", "result-wx1", "/audit/-42", "2026-01-02T02:04:05Z"}, []string{a, b, c, d, e})
}

// Names and principals come from WeChat: every place a row prints them
// keeps them text.
func TestRowsEscapeWhatWeChatSends(t *testing.T) {
	t.Parallel()
	const name = `<img src=x onerror="alert(1)">花间 & 'co'`
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	id := int64(7)
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		list := pageOfAccounts(lang, core.RoleOperator)
		list.Accounts = list.Accounts[:2]
		list.Accounts[0].NickName, list.Accounts[0].PrincipalName, list.Accounts[0].State = name, name, traffic.StateUnknown
		list.Accounts[1].NickName, list.Accounts[1].PrincipalName, list.Accounts[1].State = name, name, traffic.StateEligible
		list.Accounts[1].LastAttemptID, list.Accounts[1].LastAttemptAt = &id, &at
		audit := pageOfAttempts(lang)
		audit.Attempts = audit.Attempts[:1]
		audit.Attempts[0].AccountName, audit.Attempts[0].StaffName, audit.Attempts[0].Message = name, name, name
		for _, page := range []interface {
			Render(context.Context, io.Writer) error
		}{AccountsPage(list), AuditPage(audit)} {
			var sb strings.Builder
			require.NoError(t, page.Render(context.Background(), &sb))
			require.NotContains(t, sb.String(), "<img src=x")
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
			require.NoError(t, err)
			require.Zero(t, doc.Find("img[onerror]").Length())
			rows := doc.Find("tbody tr")
			require.Positive(t, rows.Length())
			rows.Each(func(_ int, tr *goquery.Selection) {
				require.Contains(t, tr.Text(), name)
			})
			doc.Find("[hx-confirm]").Each(func(_ int, f *goquery.Selection) {
				require.Contains(t, f.AttrOr("hx-confirm", ""), name)
			})
		}
	}
}

// A page of 50 rows allocates a few dozen objects a row, not the hundred
// it took when every value went through fmt and every class through
// templ's CSS processor (4,367 for the list, 2,515 for the audit).
func TestRowsRenderWithFewAllocations(t *testing.T) {
	ctx := context.Background()
	list, audit := pageOfAccounts(i18n.ZH, core.RoleOperator), pageOfAttempts(i18n.ZH)
	listAllocs := testing.AllocsPerRun(20, func() { _ = AccountsPage(list).Render(ctx, io.Discard) })
	auditAllocs := testing.AllocsPerRun(20, func() { _ = AuditPage(audit).Render(ctx, io.Discard) })
	t.Logf("list page: %.0f allocations, audit page: %.0f", listAllocs, auditAllocs)
	require.Less(t, listAllocs, 1400.0)
	require.Less(t, auditAllocs, 650.0)
}

// render renders c and parses it, in a table so that cells survive parsing.
func parseRendered(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}, inTable bool) *goquery.Document {
	t.Helper()
	var sb strings.Builder
	if inTable {
		sb.WriteString("<table><tbody><tr>")
	}
	require.NoError(t, c.Render(context.Background(), &sb))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	require.NoError(t, err)
	return doc
}

func outerHTML(t *testing.T, s *goquery.Selection) string {
	t.Helper()
	require.Equal(t, 1, s.Length())
	h, err := goquery.OuterHtml(s)
	require.NoError(t, err)
	return h
}

// The list prints each row's state badge, last attempt and actions inline;
// htmx swaps the partials into the same places, so they must agree.
func TestListRowMatchesItsPartials(t *testing.T) {
	t.Parallel()
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		vm := pageOfAccounts(lang, core.RoleOperator)
		revoked := time.Now()
		vm.Accounts[1].RevokedAt = &revoked
		page := parseRendered(t, AccountsPage(vm), false)
		for _, a := range vm.Accounts {
			r := newAccountView(vm.Base, a)
			row := page.Find("tr#app-" + a.AppID)
			require.Equal(t, outerHTML(t, parseRendered(t, stateBadge(r, false), false).Find("#state-"+a.AppID)), outerHTML(t, row.Find("#state-"+a.AppID)))
			require.Equal(t, outerHTML(t, parseRendered(t, lastAttemptCell(r, false), true).Find("#last-"+a.AppID)), outerHTML(t, row.Find("#last-"+a.AppID)))
			actions := parseRendered(t, accountActions(r, true), false).Find("body").Children()
			require.Equal(t, outerHTML(t, actions), outerHTML(t, row.Find("td").Last().Children().First()))
		}
	}
}

// The audit prints each row's outcome badge inline: it must be outcomeBadge's.
func TestAuditRowMatchesItsBadge(t *testing.T) {
	t.Parallel()
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		vm := pageOfAttempts(lang)
		page := parseRendered(t, AuditPage(vm), false)
		for _, a := range vm.Attempts {
			var o outcomeView
			o.set(vm.Base, attemptOutcome(a))
			badge, err := parseRendered(t, outcomeBadge(&o), false).Find("body").Html()
			require.NoError(t, err)
			cell, err := page.Find("tr#attempt-" + itoa(a.ID) + " td").Eq(5).Html()
			require.NoError(t, err)
			require.Equal(t, strings.TrimSpace(badge), strings.TrimSpace(cell))
		}
	}
}

func TestAppendTimeWritesWhatFormatWrites(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	for _, at := range []time.Time{time.Date(2026, 11, 25, 23, 59, 58, 999999999, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 16, 0, 0, 0, time.UTC), {}} {
		for _, loc := range []*time.Location{time.UTC, shanghai, time.FixedZone("", -9*3600-30*60)} {
			require.Equal(t, at.In(loc).Format(timeLayout), string(appendTime(nil, at.In(loc), ' ', timeLayout)))
		}
		require.Equal(t, at.UTC().Format(time.RFC3339), string(appendTime(nil, at.UTC(), 'T', time.RFC3339)))
	}
}
