package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// TestRunPageSaysUnknownCreationsNeedACheck: a unit-creation run with
// creations whose outcome is unknown says they were not retried and need a
// check; other runs say nothing of it.
func TestRunPageSaysUnknownCreationsNeedACheck(t *testing.T) {
	t.Parallel()
	render := func(r *jobs.Run) *goquery.Document {
		var sb strings.Builder
		require.NoError(t, AMSRunNotes(RunVM{Base: Base{Lang: i18n.EN}, Run: r}).Render(context.Background(), &sb))
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
		require.NoError(t, err)
		return doc
	}
	run := &jobs.Run{ID: 7, Op: ams.OpCreateUnit, Outcomes: map[string]int{string(traffic.OutcomeUnknown): 2, string(traffic.OutcomeInterrupted): 1, string(traffic.OutcomeSuccess): 5}}
	doc := render(run)
	require.Equal(t, "3", doc.Find("#run-unknown").AttrOr("data-count", ""))
	require.Contains(t, doc.Find("#run-unknown").Text(), "not tried again")
	require.Equal(t, "/audit?run=7&group=unknown", doc.Find("#run-unknown a").AttrOr("href", ""))
	run.Op = ams.OpSwitchCover
	require.Zero(t, render(run).Find("#run-unknown").Length())
	run.Op, run.Action = "", traffic.ActionOpen
	require.Zero(t, render(run).Find("#run-unknown").Length())
}
