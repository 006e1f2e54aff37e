package wechat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

var cst = time.FixedZone("CST", 8*3600)

// at moves the simulator's clock and fetches a component token valid then.
func (e *env) at(t *testing.T, when time.Time) {
	t.Helper()
	e.clock.mu.Lock()
	e.clock.t = when
	e.clock.mu.Unlock()
	tok, err := e.client.ComponentToken(context.Background(), e.sim.CurrentTicket())
	require.NoError(t, err)
	e.ctok = tok.Value
}

// token issues a fresh authorizer token for appID at the current clock.
func (e *env) token(t *testing.T, appID string) string {
	t.Helper()
	a, ok := e.sim.Authorizer(appID)
	require.True(t, ok)
	tok, err := e.client.AuthorizerToken(context.Background(), e.ctok, appID, a.RefreshToken)
	require.NoError(t, err)
	return tok.AccessToken
}

// opened authorizes a Mini Program whose traffic master has been open since since.
func (e *env) opened(t *testing.T, since time.Time) (string, string) {
	t.Helper()
	appID, tok := e.authorize(t, true)
	e.sim.MarkOpened(appID, since)
	return appID, tok
}

// withData returns an opened account that has ad data, and one that has none.
func (e *env) withData(t *testing.T, since time.Time) (withData, tok, without string) {
	t.Helper()
	end := e.clock.Now().In(cst).AddDate(0, 0, -2).Format(time.DateOnly)
	for range 40 {
		appID, tk := e.opened(t, since)
		if e.sim.SlotTotals(appID, since.In(cst).Format(time.DateOnly), end, "").Exposure > 0 {
			if withData == "" {
				withData, tok = appID, tk
			}
		} else if without == "" {
			without = appID
		}
		if withData != "" && without != "" {
			return withData, tok, without
		}
	}
	t.Fatal("no account with data and none without among 40")
	return
}

func TestAdUnitsEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.opened(t, e.clock.Now().Add(-48*time.Hour))
	seeded, err := e.client.AllAdUnits(ctx, tok, "")
	require.NoError(t, err)

	specs := []wechat.NewAdUnit{
		{Name: "横幅", Slot: wechat.SlotBanner},
		{Name: "激励15", Slot: wechat.SlotRewardVideo, VideoDurationMin: 6, VideoDurationMax: 15},
		{Name: "激励30", Slot: wechat.SlotRewardVideo, VideoDurationMin: 6, VideoDurationMax: 30},
		{Name: "激励60", Slot: wechat.SlotRewardVideo, VideoDurationMin: 10, VideoDurationMax: 60},
		{Name: "插屏", Slot: wechat.SlotInterstitial},
		{Name: "信息流", Slot: wechat.SlotVideoFeeds},
		{Name: "贴片", Slot: wechat.SlotVideoBegin},
		{Name: "格子", Slot: wechat.SlotBox},
		{Name: "模板类型", Slot: wechat.SlotTemplate, TmplType: 2},
		{Name: "自有模板", Slot: wechat.SlotTemplate, TmplID: "1000001"},
	}
	ids := map[string]wechat.NewAdUnit{}
	for _, n := range specs {
		id, err := e.client.CreateAdUnit(ctx, tok, n)
		require.NoError(t, err, n.Name)
		ids[id] = n
	}
	_, err = e.client.CreateAdUnit(ctx, tok, wechat.NewAdUnit{Name: "横幅", Slot: wechat.SlotBox})
	requireCode(t, err, 1803, "ret")
	_, err = e.client.CreateAdUnit(ctx, tok, wechat.NewAdUnit{Name: "别人的模板", Slot: wechat.SlotTemplate, TmplID: "999"})
	requireCode(t, err, 1701, "ret")

	all, err := e.client.AllAdUnits(ctx, tok, "")
	require.NoError(t, err)
	require.Len(t, all, len(seeded)+len(specs))
	assert.Equal(t, "自有模板", all[0].Name, "newest first")
	for _, u := range all {
		assert.NotEqual(t, wechat.SlotCover, u.AdSlot, "the list never shows the cover slot")
		assert.True(t, u.On())
		if n, ok := ids[u.AdUnitID]; ok {
			assert.Equal(t, n.Slot, u.AdSlot)
			assert.Equal(t, n.Name, u.Name)
			assert.Equal(t, appID, u.AppID)
			if n.Slot == wechat.SlotRewardVideo {
				assert.Equal(t, wechat.Int(n.VideoDurationMin), u.VideoDurationMin)
				assert.Equal(t, wechat.Int(n.VideoDurationMax), u.VideoDurationMax)
			}
		}
	}
	rewards, err := e.client.AllAdUnits(ctx, tok, wechat.SlotRewardVideo)
	require.NoError(t, err)
	for _, u := range rewards {
		assert.Equal(t, wechat.SlotRewardVideo, u.AdSlot)
	}

	var reward30, tmplUnit, ownTmpl string
	for id, n := range ids {
		switch n.Name {
		case "激励30":
			reward30 = id
		case "模板类型":
			tmplUnit = id
		case "自有模板":
			ownTmpl = id
		}
	}
	require.NoError(t, e.client.UpdateAdUnit(ctx, tok, wechat.AdUnitUpdate{AdUnitID: reward30, Name: "激励改名", On: false, VideoDurationMin: 6, VideoDurationMax: 60}))
	one, err := e.client.ListAdUnits(ctx, tok, wechat.AdUnitQuery{Page: 1, PageSize: 10, AdUnitID: reward30})
	require.NoError(t, err)
	require.Len(t, one.AdUnits, 1)
	assert.Equal(t, "激励改名", one.AdUnits[0].Name)
	assert.False(t, one.AdUnits[0].On())
	assert.Equal(t, wechat.Int(60), one.AdUnits[0].VideoDurationMax)
	err = e.client.UpdateAdUnit(ctx, tok, wechat.AdUnitUpdate{AdUnitID: reward30, Name: "横幅", On: true})
	requireCode(t, err, 1803, "ret")
	err = e.client.UpdateAdUnit(ctx, tok, wechat.AdUnitUpdate{AdUnitID: "adunit-nope", Name: "x", On: true})
	requireCode(t, err, 1700, "ret")

	code, err := e.client.GetAdUnitCode(ctx, tok, reward30)
	require.NoError(t, err)
	assert.Equal(t, `<ad unit-id="`+reward30+`"></ad>`, code)
	code, err = e.client.GetAdUnitCode(ctx, tok, ownTmpl)
	require.NoError(t, err)
	assert.Contains(t, code, `unit-id="`+ownTmpl+`"`)

	tt, err := e.client.GetTmplType(ctx, tok, tmplUnit)
	require.NoError(t, err)
	assert.Equal(t, 2, tt)
	_, err = e.client.GetTmplType(ctx, tok, reward30)
	requireCode(t, err, 1700, "ret")

	tmpls, err := e.client.GetAgencyAdUnitList(ctx, tok, wechat.CustomTemplateQuery{Page: 1, PageSize: 10, AdSlot: wechat.SlotTemplate, WithBindList: true})
	require.NoError(t, err)
	assert.Equal(t, wechat.Int(3), tmpls.TotalNum)
	for _, tm := range tmpls.Templates {
		if tm.TmplID == "1000001" {
			assert.Equal(t, wechat.Int(1), tm.BindTotal)
			require.Len(t, tm.BindList, 1)
			assert.Equal(t, ownTmpl, tm.BindList[0].AdUnitID)
		} else {
			assert.Zero(t, tm.BindTotal)
		}
	}
	tmpls, err = e.client.GetAgencyAdUnitList(ctx, tok, wechat.CustomTemplateQuery{Page: 1, PageSize: 10, AdSlot: wechat.SlotTemplate, TmplID: "1000001"})
	require.NoError(t, err)
	require.Len(t, tmpls.Templates, 1)
	assert.Empty(t, tmpls.Templates[0].BindList, "no bind list unless asked")
	assert.Equal(t, wechat.Int(1), tmpls.Templates[0].BindTotal)
}

func TestAllAdUnitsReadsEveryPage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, tok := e.opened(t, e.clock.Now().Add(-48*time.Hour))
	seeded, err := e.client.AllAdUnits(ctx, tok, "")
	require.NoError(t, err)
	for i := range wechat.MaxAdUnitPageSize + 5 {
		_, err := e.client.CreateAdUnit(ctx, tok, wechat.NewAdUnit{Name: "box " + string(rune('A'+i/26)) + string(rune('a'+i%26)), Slot: wechat.SlotBox})
		require.NoError(t, err)
	}
	all, err := e.client.AllAdUnits(ctx, tok, "")
	require.NoError(t, err)
	assert.Len(t, all, len(seeded)+wechat.MaxAdUnitPageSize+5)
}

// TestTokensWhereDocumented: the component token on a Mini Program's action
// is 1736; an authorizer token on the provider's is refused; an account not
// yet open answers 2009.
func TestTokensWhereDocumented(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.authorize(t, true)
	for _, action := range []string{
		wechat.ActionCreateAdUnit, wechat.ActionUpdateAdUnit, wechat.ActionGetAdUnitList, wechat.ActionGetAdUnitCode,
		wechat.ActionGetTmplType, wechat.ActionGetAgencyAdUnitList, wechat.ActionSetCoverAdposStatus, wechat.ActionGetCoverAdposStatus,
		wechat.ActionSetCoverAdposScene, wechat.ActionGetCoverAdposScene, wechat.ActionGetBlackList, wechat.ActionSetBlackList,
		wechat.ActionGetAmsCategoryBlacklist, wechat.ActionSetAmsCategoryBlacklist, wechat.ActionGetAdposGeneral,
		wechat.ActionGetAdUnitGeneral, wechat.ActionGetSettlement,
	} {
		_, err := e.client.AMS(ctx, e.ctok, action, map[string]any{}, nil)
		requireCode(t, err, 1736, "ret")
		_, err = e.client.AMS(ctx, tok, action, map[string]any{}, nil)
		require.Error(t, err, action)
		code, _ := wechat.CodeOf(err)
		assert.Equal(t, 2009, code, action)
	}
	_, err := e.client.GetShareRatio(ctx, tok, appID)
	requireCode(t, err, 40001, "errcode")
	_, err = e.client.GetAgencySettledRevenue(ctx, tok, "2026-01-01", "2026-01-01", 1, 10)
	requireCode(t, err, 40001, "errcode")
	_, err = e.client.GetAgencyAdsStat(ctx, tok, janQuery)
	assert.NoError(t, err, "the pages disagree on this action's token: both are accepted")
	_, err = e.client.GetAgencyAdsStat(ctx, e.ctok, janQuery)
	assert.NoError(t, err)

	_, oaTok := e.authorize(t, false)
	_, err = e.client.GetBlackList(ctx, oaTok)
	requireCode(t, err, 48001, "errcode")

	// Opening through the API makes the actions available.
	_, err = e.client.CreatePublisher(ctx, tok)
	require.NoError(t, err)
	_, err = e.client.GetBlackList(ctx, tok)
	require.NoError(t, err)
}

func TestCoverAdsOnceAnHour(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.authorize(t, true)
	opened := e.clock.Now()
	_, err := e.client.CreatePublisher(ctx, tok)
	require.NoError(t, err)

	st, err := e.client.GetCoverAdposStatus(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, opened.Add(time.Hour).Unix(), st.NextOpenTime.Unix(), "may not be switched on within an hour of opening")
	if st.On() {
		require.NoError(t, e.client.SetCoverAdposStatus(ctx, tok, false))
	}
	requireCode(t, e.client.SetCoverAdposStatus(ctx, tok, true), 2068, "ret")

	e.clock.Advance(time.Hour)
	tok = e.token(t, appID)
	st, err = e.client.GetCoverAdposStatus(ctx, tok)
	require.NoError(t, err)
	assert.True(t, st.NextOpenTime.IsZero(), "may be switched now")
	require.NoError(t, e.client.SetCoverAdposStatus(ctx, tok, true))
	switched := e.clock.Now()
	st, err = e.client.GetCoverAdposStatus(ctx, tok)
	require.NoError(t, err)
	assert.True(t, st.On())
	assert.Equal(t, switched.Add(time.Hour).Unix(), st.NextOpenTime.Unix())
	requireCode(t, e.client.SetCoverAdposStatus(ctx, tok, true), 2067, "ret")

	e.clock.Advance(59 * time.Minute)
	requireCode(t, e.client.SetCoverAdposStatus(ctx, tok, false), 2008, "ret")
	e.clock.Advance(time.Minute)
	require.NoError(t, e.client.SetCoverAdposStatus(ctx, tok, false))
	require.NoError(t, e.client.SetCoverAdposStatus(ctx, tok, false), "already off: nothing to do")
	st, err = e.client.GetCoverAdposStatus(ctx, tok)
	require.NoError(t, err)
	assert.False(t, st.On())

	scenes, err := e.client.GetCoverAdposScene(ctx, tok)
	require.NoError(t, err)
	assert.Greater(t, len(scenes), 5, "every scene is on by default")
	require.NoError(t, e.client.SetCoverAdposScene(ctx, tok, wechat.SceneList{1001, 1089}))
	scenes, err = e.client.GetCoverAdposScene(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, wechat.SceneList{1001, 1089}, scenes)
	e.sim.SetDialect(wechat.ActionGetCoverAdposScene, wechatsim.Dialect{AltSpelling: true})
	scenes, err = e.client.GetCoverAdposScene(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, wechat.SceneList{1001, 1089}, scenes, "read from cover_scene_list")
	_, err = e.client.AMS(ctx, tok, wechat.ActionSetCoverAdposScene, map[string]any{"cover_scene_list": "1001,abc"}, nil)
	requireCode(t, err, 1700, "ret")
}

func TestBlocklistsCapsAndIndustries(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, tok := e.opened(t, e.clock.Now().Add(-48*time.Hour))
	for kind, limit := range wechat.BlockCaps {
		var entries []wechat.BlockEntry
		for i := range limit {
			entries = append(entries, wechat.BlockEntry{Type: kind, ID: string(rune('a'+kind)) + string(rune('a'+i))})
		}
		require.NoError(t, e.client.SetBlackList(ctx, tok, true, entries))
		require.NoError(t, e.client.SetBlackList(ctx, tok, true, entries[:1]), "adding one already there changes nothing")
		over := wechat.BlockEntry{Type: kind, ID: "one-too-many"}
		requireCode(t, e.client.SetBlackList(ctx, tok, true, []wechat.BlockEntry{over}), 2035, "ret")
		bl, err := e.client.GetBlackList(ctx, tok)
		require.NoError(t, err)
		assert.Len(t, bl.Of(kind), limit, "refused as a whole")
		require.NoError(t, e.client.SetBlackList(ctx, tok, false, entries[:1]))
		require.NoError(t, e.client.SetBlackList(ctx, tok, true, []wechat.BlockEntry{over}))
		bl, err = e.client.GetBlackList(ctx, tok)
		require.NoError(t, err)
		got := bl.Of(kind)
		assert.Len(t, got, limit)
		assert.True(t, slices.ContainsFunc(got, func(b wechat.BlockedAdvertiser) bool { return b.ID == "one-too-many" && b.Name != "" }))
	}
	// Pitfall 5: list sent as an array is refused.
	_, err := e.client.AMS(ctx, tok, wechat.ActionSetBlackList, map[string]any{"op": 1, "list": []map[string]any{{"type": 1, "id": "gh_x"}}}, nil)
	requireCode(t, err, 1700, "ret")

	cats, err := e.client.GetAmsCategoryBlacklist(ctx, tok)
	require.NoError(t, err)
	assert.Empty(t, cats)
	require.NoError(t, e.client.SetAmsCategoryBlacklist(ctx, tok, []string{"LOAN", "SECURITES", "CHESS"}))
	cats, err = e.client.GetAmsCategoryBlacklist(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, []string{"LOAN", "SECURITES", "CHESS"}, cats)
	require.NoError(t, e.client.SetAmsCategoryBlacklist(ctx, tok, nil))
	cats, err = e.client.GetAmsCategoryBlacklist(ctx, tok)
	require.NoError(t, err)
	assert.Empty(t, cats)
	_, err = e.client.AMS(ctx, tok, wechat.ActionSetAmsCategoryBlacklist, map[string]any{"ams_category": "SECURITIES"}, nil)
	requireCode(t, err, 1700, "ret")
}

func TestShareRatioPendingTheMerchant(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a, _ := e.opened(t, e.clock.Now().Add(-48*time.Hour))
	b, _ := e.opened(t, e.clock.Now().Add(-48*time.Hour))

	def, err := e.client.GetShareRatio(ctx, e.ctok, testAppID)
	require.NoError(t, err)
	assert.Equal(t, wechatsim.InitialShareRatio, def)
	require.NoError(t, e.client.SetShareRatio(ctx, e.ctok, 40))
	def, err = e.client.GetShareRatio(ctx, e.ctok, testAppID)
	require.NoError(t, err)
	assert.Equal(t, 40, def)
	inEffect, err := e.client.GetShareRatio(ctx, e.ctok, a)
	require.NoError(t, err)
	assert.Equal(t, wechatsim.InitialShareRatio, inEffect, "pending until the merchant confirms")
	_, pending, isPending := e.sim.ShareRatio(a)
	assert.True(t, isPending)
	assert.Equal(t, 40, pending)

	_, set, err := e.client.GetCustomShareRatio(ctx, e.ctok, b)
	require.NoError(t, err)
	assert.False(t, set, "2061: none set")
	require.NoError(t, e.client.SetCustomShareRatio(ctx, e.ctok, b, 25))
	custom, set, err := e.client.GetCustomShareRatio(ctx, e.ctok, b)
	require.NoError(t, err)
	assert.True(t, set)
	assert.Equal(t, 25, custom)
	inEffect, err = e.client.GetShareRatio(ctx, e.ctok, b)
	require.NoError(t, err)
	assert.Equal(t, wechatsim.InitialShareRatio, inEffect)

	require.True(t, e.sim.ConfirmShareRatio(a))
	require.True(t, e.sim.ConfirmShareRatio(b))
	assert.False(t, e.sim.ConfirmShareRatio(b), "nothing left pending")
	inEffect, err = e.client.GetShareRatio(ctx, e.ctok, a)
	require.NoError(t, err)
	assert.Equal(t, 40, inEffect)
	inEffect, err = e.client.GetShareRatio(ctx, e.ctok, b)
	require.NoError(t, err)
	assert.Equal(t, 25, inEffect, "the custom ratio overrides the default")

	e.sim.SetDialect(wechat.ActionGetShareRatio, wechatsim.Dialect{Shape: "bare"})
	inEffect, err = e.client.GetShareRatio(ctx, e.ctok, b)
	require.NoError(t, err, "a reply without ret is success")
	assert.Equal(t, 25, inEffect)

	_, err = e.client.GetShareRatio(ctx, e.ctok, "wxunknown")
	requireCode(t, err, 61003, "ret")
	requireCode(t, e.client.SetCustomShareRatio(ctx, e.ctok, "wxunknown", 10), 61003, "ret")
}
