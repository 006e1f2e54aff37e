package traffic

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Every state has its own row in the one table, in the order of States, with
// words and a tone: no page falls back to the raw key.
func TestEveryStateHasARow(t *testing.T) {
	t.Parallel()
	require.Len(t, StateTable, len(States))
	for i, s := range States {
		require.Equal(t, s, StateTable[i].State)
		info := DescribeState(s)
		require.NotEmpty(t, info.Label, s)
		require.NotEqual(t, string(s), info.Sentence, s)
		require.NotEmpty(t, info.Tone, s)
	}
}

// A WeChat code is classified once, by the catalog: its outcome is the row
// of its class, and each class has exactly one row.
func TestEveryCodeClassifiesToTheRowOfItsClass(t *testing.T) {
	t.Parallel()
	rows := map[wechat.Class]int{}
	for _, o := range Outcomes {
		if o.Class != "" {
			rows[o.Class]++
		}
	}
	for class, n := range rows {
		require.Equal(t, 1, n, class)
	}
	for _, info := range wechat.Codes() {
		o := OutcomeOfCode(info.Code)
		require.Equal(t, info.Class, DescribeOutcome(o).Class, info.Code)
	}
	require.Equal(t, OutcomeFailed, OutcomeOfCode(123456), "an unknown code")
}

// The attempt's words come from the table: a success says what it was a
// success of, a code brings the catalog's advice, no code the row's next step.
func TestExplain(t *testing.T) {
	t.Parallel()
	one, zero, busy := 1, 0, -1
	require.Equal(t, "Traffic master opened.", Explain(&Attempt{Status: AttemptCompleted, Action: ActionOpen, Outcome: OutcomeSuccess, Code: &zero}).Sentence)
	require.Equal(t, "Eligible: WeChat says the traffic master can be opened.",
		Explain(&Attempt{Status: AttemptCompleted, Action: ActionCheck, Outcome: OutcomeSuccess, CheckStatus: &one}).Sentence)
	e := Explain(&Attempt{Status: AttemptCompleted, Outcome: OutcomeRetryable, Code: &busy})
	require.True(t, e.CodeAdvice)
	require.Equal(t, wechat.LookupCode(-1).ActionIn("en"), e.Code.ActionIn("en"))
	require.Equal(t, "Retry later (automatic)", e.GroupInfo.Label)
	e = Explain(&Attempt{Status: AttemptCompleted, Outcome: OutcomeUnknown})
	require.False(t, e.CodeAdvice)
	require.Equal(t, "Look at the audit entry and the Mini Program's state in WeChat before trying again.", e.NextStep)
	require.Equal(t, "Pending", Explain(&Attempt{Status: AttemptPending, Outcome: OutcomeUnknown}).Label)
}
