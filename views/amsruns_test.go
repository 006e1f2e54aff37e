package views

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// TestOpWordsInBothLanguages: every bulk operation, with each of its
// variants, is described in English and in Chinese, and each variant in
// words of its own.
func TestOpWordsInBothLanguages(t *testing.T) {
	t.Parallel()
	en, zh := Base{Lang: i18n.EN}, Base{Lang: i18n.ZH}
	cases := []struct {
		op ams.Op
		p  any
	}{
		{ams.OpCreateUnit, ams.NewUnit{Name: "n", Slot: wechat.SlotRewardVideo, VideoMin: 6, VideoMax: 30}},
		{ams.OpCreateUnit, ams.NewUnit{Name: "n", Slot: wechat.SlotBanner}},
		{ams.OpSwitchSlot, ams.SlotSwitch{Slot: wechat.SlotBanner, On: true}},
		{ams.OpSwitchSlot, ams.SlotSwitch{Slot: wechat.SlotBanner}},
		{ams.OpSwitchCover, ams.CoverSwitch{On: true}},
		{ams.OpSwitchCover, ams.CoverSwitch{}},
		{ams.OpCoverScenes, ams.CoverScenes{Scenes: []int{1}}},
		{ams.OpBlocklist, ams.BlockChange{Add: true, Entries: []wechat.BlockEntry{{Type: wechat.BlockIOSApp, ID: "x"}}}},
		{ams.OpBlocklist, ams.BlockChange{Entries: []wechat.BlockEntry{{Type: wechat.BlockIOSApp, ID: "x"}}}},
		{ams.OpIndustries, ams.Industries{Categories: []string{"LOAN"}}},
		{ams.OpIndustries, ams.Industries{}},
		{ams.OpShareRatio, ams.ShareRatio{Ratio: 30}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		b, err := json.Marshal(c.p)
		require.NoError(t, err)
		e, z := OpWords(en, c.op, b), OpWords(zh, c.op, b)
		require.NotEqual(t, string(c.op), e)
		require.NotEqual(t, e, z, "%s is translated", e)
		require.False(t, seen[e], "%s said twice", e)
		seen[e] = true
	}
	for _, op := range formOps {
		require.True(t, i18n.HasZH(opNames[op]), opNames[op])
	}
	for _, k := range blockKinds {
		require.True(t, i18n.HasZH(k.Label), k.Label)
	}
	for _, c := range wechat.AmsCategories {
		require.NotEqual(t, c, industryLabel(zh, c), "every industry is named")
	}
	require.Equal(t, "Set the custom share ratio to 30%", OpWords(en, ams.OpShareRatio, json.RawMessage(`{"ratio":30}`)))
}
