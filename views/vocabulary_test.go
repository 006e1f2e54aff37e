package views

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// Every word of the vocabulary table, and every state, reads in Chinese too.
func TestVocabularyIsTranslated(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, g := range traffic.Groups {
		keys = append(keys, g.Label, g.NextStep)
	}
	for _, o := range traffic.Outcomes {
		keys = append(keys, o.Label, o.Sentence)
	}
	for _, s := range traffic.States {
		keys = append(keys, StateLabel(s))
		if n := StateNextStep(s); n != "" {
			keys = append(keys, n)
		}
	}
	for _, st := range []int{14, 16, 19} {
		keys = append(keys, OpenRefusal(&traffic.Account{AccountStatus: st}))
	}
	for _, k := range keys {
		require.True(t, i18n.HasZH(k), "no Chinese for %q", k)
	}
}

// Each state that follows an outcome group is labelled by that group, so the
// list's chip and the audit's badge and filter use the same word.
func TestStatesSpeakTheGroupsWords(t *testing.T) {
	t.Parallel()
	seen := map[traffic.Group]bool{}
	for _, s := range traffic.States {
		if g, ok := StateGroup(s); ok {
			require.Equal(t, traffic.DescribeGroup(g).Label, StateLabel(s))
			seen[g] = true
		}
	}
	for _, g := range []traffic.Group{traffic.GroupRetry, traffic.GroupMerchant, traffic.GroupPlatform, traffic.GroupThreshold, traffic.GroupOurBug, traffic.GroupUnknown} {
		require.True(t, seen[g], "a state for %s", g)
	}
	for code, g := range map[traffic.Outcome]traffic.Group{
		traffic.OutcomeRetryable: traffic.GroupRetry, traffic.OutcomeRateLimited: traffic.GroupRetry, traffic.OutcomeNotSent: traffic.GroupRetry,
		traffic.OutcomeProviderConfig: traffic.GroupPlatform, traffic.OutcomeNeedsMerchant: traffic.GroupMerchant,
		traffic.OutcomeNotYetEligible: traffic.GroupThreshold, traffic.OutcomeOurBug: traffic.GroupOurBug,
		traffic.OutcomeUnknown: traffic.GroupUnknown, traffic.OutcomeInterrupted: traffic.GroupUnknown,
	} {
		require.Equal(t, g, traffic.GroupOf(code), code)
	}
}

func TestServerWordsInBothLanguages(t *testing.T) {
	t.Parallel()
	en, zh := Base{Lang: i18n.EN}, Base{Lang: i18n.ZH}
	require.Equal(t, "1 h 5 min", Duration(en, time.Hour+5*time.Minute+10*time.Second))
	require.Equal(t, "2 分 30 秒", Duration(zh, 150*time.Second))
	require.Equal(t, "45 秒", Duration(zh, 45*time.Second))
	// Older runs recorded English free text; it reads in Chinese too.
	require.Equal(t, "全部小程序", SelectionText(zh, "all Mini Programs"))
	require.Equal(t, "已选 3 个", SelectionText(zh, "3 selected"))
	require.Equal(t, "状态：从未尝试", SelectionText(zh, "state=never"))
	require.Equal(t, "state: Never tried; search: “a b”", SelectionText(en, "state=never q=a b"))
	require.Equal(t, "定时重试未达门槛（2013）的账号", SelectionText(zh, "scheduled retry of accounts below the threshold (2013)"))
	require.Equal(t, "任务 #12，共 40 个账号", JobOutput(zh, `"run 12 over 40 accounts"`))
	require.Equal(t, "3 个账号的状态变化、2 个新增或更名的授权方已计入，按主体汇总 4 天", JobOutput(zh, `"3 accounts moved to another state, 2 authorizers added or renamed, 4 days summed per principal"`))
	require.Equal(t, "每 10 秒", every(zh, 10*time.Second))
	require.Equal(t, "every 10 s", every(en, 10*time.Second))
	require.Equal(t, "每 5 分钟", every(zh, 5*time.Minute))
	require.Equal(t, "每 24 小时", every(zh, 24*time.Hour))
	require.Equal(t, "密码错误", SecurityDetail(zh, "wrong password"))
	require.Equal(t, "只读 → 管理员 （命令行）", SecurityDetail(zh, "viewer -> admin (command line)"))
	require.Equal(t, "已完成", zh.T(attemptStatusLabel("completed")))
}

func TestOutcomePhrase(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Retry later (automatic) · WeChat busy", Base{Lang: i18n.EN}.OutcomePhrase(traffic.OutcomeRetryable))
	require.Equal(t, "未达门槛", Base{Lang: i18n.ZH}.OutcomePhrase(traffic.OutcomeNotYetEligible), "no repeat when the group says it all")
	require.Equal(t, "稍后重试（自动） · 微信繁忙", Base{Lang: i18n.ZH}.OutcomePhrase(traffic.OutcomeRetryable))
}
