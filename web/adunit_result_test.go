package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/views"
)

// TestAdUnitResultSuccessShowsNoCode: an ad unit WeChat created or changed
// reads as a success, without "WeChat code 0" beside it as if it were an
// error's detail; a refusal keeps its code and what it means.
func TestAdUnitResultSuccessShowsNoCode(t *testing.T) {
	t.Parallel()
	render := func(lang i18n.Lang, a *traffic.Attempt, newID string) *goquery.Document {
		t.Helper()
		var sb strings.Builder
		require.NoError(t, views.AdUnitResult(views.AdUnitResultVM{Base: views.Base{Lang: lang}, Attempt: a, NewID: newID}).Render(context.Background(), &sb))
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
		require.NoError(t, err)
		return doc
	}
	code := func(n int) *int { return &n }
	for _, action := range []traffic.Action{traffic.ActionUnitCreate, traffic.ActionUnitUpdate} {
		ok := &traffic.Attempt{ID: 41, Action: action, Status: traffic.AttemptCompleted, Outcome: traffic.OutcomeSuccess, Code: code(0), Message: "ok"}
		for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
			doc := render(lang, ok, "adunit-1")
			res := doc.Find(".result")
			require.Equal(t, string(traffic.OutcomeSuccess), res.AttrOr("data-outcome", ""))
			text := res.Text()
			require.NotContains(t, text, i18n.T(lang, "WeChat code"), "%s %s: a success shows no code", action, lang)
			require.Zero(t, res.Find("[data-code]").Length(), "%s %s", action, lang)
			require.Zero(t, res.Find("span.mono").Length(), "nor WeChat's errmsg of a success")
			require.NotEmpty(t, strings.TrimSpace(res.Find("strong").Text()), "the sentence says what happened")
			require.Equal(t, "/audit/41", res.Find("a[data-audit-link]").AttrOr("href", ""))
		}
	}

	failed := &traffic.Attempt{ID: 42, Action: traffic.ActionUnitCreate, Status: traffic.AttemptCompleted, Outcome: traffic.OutcomeNeedsMerchant, Code: code(1735), Message: "agreement not signed"}
	doc := render(i18n.EN, failed, "")
	res := doc.Find(".result")
	require.Contains(t, res.Text(), "WeChat code", "a refusal keeps its code")
	require.Equal(t, "1735", res.Find("code[data-code]").Text())
	require.Contains(t, res.Text(), "agreement not signed")
	require.NotEmpty(t, strings.TrimSpace(res.Find("[data-remedy]").Text()), "and what to do")
	zh := render(i18n.ZH, failed, "").Find(".result")
	require.Contains(t, zh.Text(), "微信返回码")
	require.Equal(t, "1735", zh.Find("code[data-code]").Text())
}
