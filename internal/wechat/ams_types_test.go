package wechat_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

func TestIntReadsEveryVariant(t *testing.T) {
	for in, want := range map[string]wechat.Int{
		`12`: 12, `"12"`: 12, `" 12 "`: 12, `12.0`: 12, `"-3"`: -3, `""`: 0, `null`: 0, `true`: 1, `false`: 0,
		`9007199254740993`: 9007199254740993,
	} {
		var n wechat.Int
		require.NoError(t, json.Unmarshal([]byte(in), &n), in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{`12.5`, `"x"`, `[]`, `{}`, `1e300`} {
		var n wechat.Int
		assert.Error(t, json.Unmarshal([]byte(in), &n), in)
	}
}

func TestFenReadsEveryVariantAndKeepsEveryFen(t *testing.T) {
	for in, want := range map[string]wechat.Fen{
		`1234`: 1234, `"1234"`: 1234, `0`: 0, `""`: 0, `null`: 0,
		`12.4`: 12, `12.5`: 13, `"-12.5"`: -13, `12.49999`: 12,
		`true`: 0, `false`: 0, // agency_income is typed boolean on one page
		`9007199254740993`:   9007199254740993, // beyond float64's exact integers
		`"9007199254740993"`: 9007199254740993,
		`1.5e3`:              1500,
	} {
		var f wechat.Fen
		require.NoError(t, json.Unmarshal([]byte(in), &f), in)
		assert.Equal(t, want, f, in)
	}
	for _, in := range []string{`"abc"`, `[]`, `{}`, `"1.2.3"`, `99999999999999999999`} {
		var f wechat.Fen
		assert.Error(t, json.Unmarshal([]byte(in), &f), in)
	}
	assert.Equal(t, "12.34", wechat.Fen(1234).Yuan())
	assert.Equal(t, "0.05", wechat.Fen(5).Yuan())
	assert.Equal(t, "-1.00", wechat.Fen(-100).Yuan())
}

func TestDecimalAndText(t *testing.T) {
	var d wechat.Decimal
	require.NoError(t, json.Unmarshal([]byte(`12.34`), &d))
	assert.InDelta(t, 12.34, d.Float64(), 1e-9)
	require.NoError(t, json.Unmarshal([]byte(`"0.0123"`), &d))
	assert.Equal(t, wechat.Decimal("0.0123"), d)
	require.NoError(t, json.Unmarshal([]byte(`null`), &d))
	assert.Zero(t, d.Float64())
	assert.Error(t, json.Unmarshal([]byte(`"n/a"`), &d))

	var tx wechat.Text
	require.NoError(t, json.Unmarshal([]byte(`1000001`), &tx))
	assert.Equal(t, wechat.Text("1000001"), tx)
	require.NoError(t, json.Unmarshal([]byte(`"1000001"`), &tx))
	assert.Equal(t, wechat.Text("1000001"), tx)
	require.NoError(t, json.Unmarshal([]byte(`null`), &tx))
	assert.Empty(t, tx)
	assert.Error(t, json.Unmarshal([]byte(`{}`), &tx))
}

func TestListTakesAnArrayOrOneObject(t *testing.T) {
	var l wechat.List[wechat.AdUnitSize]
	require.NoError(t, json.Unmarshal([]byte(`[{"width":375,"height":130},{"width":"300","height":"100"}]`), &l))
	assert.Equal(t, wechat.List[wechat.AdUnitSize]{{375, 130}, {300, 100}}, l)
	require.NoError(t, json.Unmarshal([]byte(`{"width":375,"height":130}`), &l))
	assert.Equal(t, wechat.List[wechat.AdUnitSize]{{375, 130}}, l)
	require.NoError(t, json.Unmarshal([]byte(`null`), &l))
	assert.Empty(t, l)
	assert.Error(t, json.Unmarshal([]byte(`"375x130"`), &l))
}

func TestSceneList(t *testing.T) {
	for in, want := range map[string]wechat.SceneList{
		`"1001,1011"`: {1001, 1011}, `"1001, 1011"`: {1001, 1011}, `"1001|1011"`: {1001, 1011},
		`[1001,1011]`: {1001, 1011}, `["1001","1011"]`: {1001, 1011}, `""`: {}, `null`: {},
	} {
		var s wechat.SceneList
		require.NoError(t, json.Unmarshal([]byte(in), &s), in)
		assert.Equal(t, want, s, in)
	}
	var s wechat.SceneList
	assert.Error(t, json.Unmarshal([]byte(`"1001,x"`), &s))
	assert.Equal(t, "1001,1011", wechat.SceneList{1001, 1011}.String())
}

func TestIncomeSpellings(t *testing.T) {
	var a, b, c wechat.SlotDayStat
	require.NoError(t, json.Unmarshal([]byte(`{"ad_slot":"SLOT_ID_WEAPP_BANNER","date":"2026-01-01","publisher_income":120,"ecpm":"12.5"}`), &a))
	require.NoError(t, json.Unmarshal([]byte(`{"ad_slot":"SLOT_ID_WEAPP_BANNER","date":"2026-01-01","income":"120","ecpm":12.5}`), &b))
	require.NoError(t, json.Unmarshal([]byte(`{"income":200,"publisher_income":120}`), &c))
	assert.Equal(t, wechat.Fen(120), a.PublisherIncome)
	assert.Equal(t, wechat.Fen(120), b.PublisherIncome)
	assert.Equal(t, a.PublisherIncome, b.PublisherIncome)
	assert.Equal(t, "SLOT_ID_WEAPP_BANNER", b.AdSlot)
	assert.Equal(t, wechat.Fen(200), c.Income, "both present: each kept")
	assert.Equal(t, wechat.Fen(120), c.PublisherIncome)

	var s wechat.PublisherMetrics
	require.NoError(t, json.Unmarshal([]byte(`{"income":7,"exposure_count":"3"}`), &s))
	assert.Equal(t, wechat.Fen(7), s.PublisherIncome)
	assert.Equal(t, wechat.Int(3), s.ExposureCount)

	var u wechat.UnitStat
	require.NoError(t, json.Unmarshal([]byte(`{"ad_unit_id":"adunit-1","stat_item":{"date":"2026-01-01","income":5}}`), &u))
	require.Len(t, u.StatItem, 1)
	assert.Equal(t, wechat.Fen(5), u.StatItem[0].PublisherIncome)
}
