package wechat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// recorded serves one reply body and keeps the request it answered.
type recorded struct {
	path, action, token string
	body                map[string]any
}

func serveBody(t *testing.T, reply string) (*wechat.Client, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.path, rec.action, rec.token = r.URL.Path, r.URL.Query().Get("action"), r.URL.Query().Get("access_token")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &rec.body)
		fmt.Fprint(w, reply)
	}))
	t.Cleanup(srv.Close)
	return wechat.NewClient(wechat.Config{BaseURL: srv.URL}), rec
}

var janQuery = wechat.StatQuery{Page: 1, PageSize: 10, StartDate: "2026-01-01", EndDate: "2026-01-31"}

// TestRecordedReplies decodes reply bodies as WeChat's pages, SDKs and
// community reports show them, in every shape and spelling.
func TestRecordedReplies(t *testing.T) {
	ctx := context.Background()
	type call func(c *wechat.Client) (any, error)
	cases := []struct {
		name, reply, path, action string
		call                      call
		want                      any
		code                      int // a *wechat.Error with this code
		shape                     string
	}{
		{
			name:  "ad unit list, sizes as an array and as an object, status as a string",
			reply: `{"ret":0,"err_msg":"","ad_unit":[{"ad_slot":"SLOT_ID_WEAPP_BANNER","ad_unit_id":"adunit-a","ad_unit_name":"首页","ad_unit_size":[{"width":375,"height":130}],"ad_unit_status":1},{"ad_slot":"SLOT_ID_WEAPP_REWARD_VIDEO","ad_unit_id":"adunit-b","ad_unit_name":"激励","ad_unit_size":{"width":"0","height":"0"},"ad_unit_status":"2","video_duration_min":6,"video_duration_max":"30"}],"total_num":"2"}`,
			path:  "/wxa/operationams", action: "agency_get_adunit_list",
			call: func(c *wechat.Client) (any, error) { return c.GetAdUnitList(ctx, "tok", 1, 10, "") },
			want: wechat.AdUnitList{TotalNum: 2, AdUnits: []wechat.AdUnit{
				{AdSlot: wechat.SlotBanner, AdUnitID: "adunit-a", Name: "首页", Sizes: wechat.List[wechat.AdUnitSize]{{375, 130}}, Status: 1},
				{AdSlot: wechat.SlotRewardVideo, AdUnitID: "adunit-b", Name: "激励", Sizes: wechat.List[wechat.AdUnitSize]{{0, 0}}, Status: 2, VideoDurationMin: 6, VideoDurationMax: 30},
			}},
		},
		{
			name:  "create unit",
			reply: `{"ret":0,"err_msg":"","ad_unit_id":"adunit-new"}`, path: "/wxa/operationams", action: "agency_create_adunit",
			call: func(c *wechat.Client) (any, error) {
				return c.CreateAdUnit(ctx, "tok", wechat.NewAdUnit{Name: "v", Slot: wechat.SlotRewardVideo, VideoDurationMin: 6, VideoDurationMax: 60})
			},
			want: "adunit-new",
		},
		{
			name:  "create unit refused: name used (community-reported 1803)",
			reply: `{"ret":1803,"err_msg":"ad unit name already used"}`, path: "/wxa/operationams", action: "agency_create_adunit",
			call: func(c *wechat.Client) (any, error) {
				return c.CreateAdUnit(ctx, "tok", wechat.NewAdUnit{Name: "v", Slot: wechat.SlotBanner})
			},
			code: 1803, shape: "ret",
		},
		{
			name: "update unit", reply: `{"ret":0}`, path: "/wxa/operationams", action: "agency_update_adunit",
			call: func(c *wechat.Client) (any, error) {
				return nil, c.UpdateAdUnit(ctx, "tok", wechat.AdUnitUpdate{AdUnitID: "adunit-a", Name: "n", On: false})
			},
		},
		{
			name: "code snippet", reply: `{"ret":0,"err_msg":"","code":"<ad unit-id=\"adunit-a\"></ad>"}`, path: "/wxa/operationams", action: "agency_get_adunit_code",
			call: func(c *wechat.Client) (any, error) { return c.GetAdUnitCode(ctx, "tok", "adunit-a") },
			want: `<ad unit-id="adunit-a"></ad>`,
		},
		{
			name: "template type as a string", reply: `{"ret":0,"tmpl_type":"3"}`, path: "/wxa/operationams", action: "agency_get_tmpl_type",
			call: func(c *wechat.Client) (any, error) { return c.GetTmplType(ctx, "tok", "adunit-a") },
			want: 3,
		},
		{
			name:  "provider templates with a numeric tmpl_id",
			reply: `{"ret":0,"ad_unit_list":[{"tmpl_id":1000001,"ad_unit_name":"图文卡片","slot_id":"SLOT_ID_WEAPP_TEMPLATE","tmpl_bind_total_num":1,"tmpl_bind_list":[{"ad_unit_id":"adunit-t","ad_slot":"SLOT_ID_WEAPP_TEMPLATE","ad_unit_size":{"width":375,"height":300}}]}],"total_num":1}`,
			path:  "/wxa/operationams", action: "get_agency_ad_unit_list",
			call: func(c *wechat.Client) (any, error) {
				return c.GetAgencyAdUnitList(ctx, "tok", wechat.CustomTemplateQuery{Page: 1, PageSize: 10, AdSlot: wechat.SlotTemplate, WithBindList: true})
			},
			want: wechat.CustomTemplateList{TotalNum: 1, Templates: []wechat.CustomTemplate{{
				TmplID: "1000001", Name: "图文卡片", SlotID: wechat.SlotTemplate, BindTotal: 1,
				BindList: []wechat.AdUnit{{AdUnitID: "adunit-t", AdSlot: wechat.SlotTemplate, Sizes: wechat.List[wechat.AdUnitSize]{{375, 300}}}},
			}}},
		},
		{
			name: "cover status", reply: `{"ret":0,"err_msg":"","status":4,"next_open_time":1767330000}`, path: "/wxa/operationams", action: "agency_get_cover_adpos_status",
			call: func(c *wechat.Client) (any, error) { return c.GetCoverAdposStatus(ctx, "tok") },
			want: wechat.CoverStatus{Status: 4, NextOpenTime: time.Unix(1767330000, 0)},
		},
		{
			name: "cover toggled within the hour", reply: `{"ret":2008,"err_msg":"cover adpos status changed within an hour"}`, path: "/wxa/operationams", action: "agency_set_cover_adpos_status",
			call: func(c *wechat.Client) (any, error) { return nil, c.SetCoverAdposStatus(ctx, "tok", true) },
			code: 2008, shape: "ret",
		},
		{
			name: "cover scenes as scene_list", reply: `{"ret":0,"scene_list":"1001,1089"}`, path: "/wxa/operationams", action: "agency_get_cover_adpos_scene",
			call: func(c *wechat.Client) (any, error) { return c.GetCoverAdposScene(ctx, "tok") },
			want: wechat.SceneList{1001, 1089},
		},
		{
			name: "cover scenes as cover_scene_list", reply: `{"ret":0,"cover_scene_list":"1001,1089"}`, path: "/wxa/operationams", action: "agency_get_cover_adpos_scene",
			call: func(c *wechat.Client) (any, error) { return c.GetCoverAdposScene(ctx, "tok") },
			want: wechat.SceneList{1001, 1089},
		},
		{
			name:  "blocklists, one kind as an object, one absent",
			reply: `{"ret":0,"blacklist_biz":[{"id":"gh_1","name":"某公众号","icon":"http://x/1"}],"blacklist_ios":{"id":414478124,"name":"某应用","url":"https://apps.apple.com/cn/app/id414478124"},"blacklist_android":[]}`,
			path:  "/wxa/operationams", action: "agency_get_black_list",
			call: func(c *wechat.Client) (any, error) { return c.GetBlackList(ctx, "tok") },
			want: wechat.BlackList{
				OfficialAccounts: wechat.List[wechat.BlockedAdvertiser]{{ID: "gh_1", Name: "某公众号", Icon: "http://x/1"}},
				IOSApps:          wechat.List[wechat.BlockedAdvertiser]{{ID: "414478124", Name: "某应用", URL: "https://apps.apple.com/cn/app/id414478124"}},
				AndroidApps:      wechat.List[wechat.BlockedAdvertiser]{},
			},
		},
		{
			name: "blocklist over its cap", reply: `{"ret":2035,"err_msg":"blacklist exceeds limit"}`, path: "/wxa/operationams", action: "agency_set_black_list",
			call: func(c *wechat.Client) (any, error) {
				return nil, c.SetBlackList(ctx, "tok", true, []wechat.BlockEntry{{Type: wechat.BlockIOSApp, ID: "1"}})
			},
			code: 2035, shape: "ret",
		},
		{
			name: "industries", reply: `{"ret":0,"ams_category":"CHESS|LOAN"}`, path: "/wxa/operationams", action: "agency_get_mp_amscategory_blacklist",
			call: func(c *wechat.Client) (any, error) { return c.GetAmsCategoryBlacklist(ctx, "tok") },
			want: []string{"CHESS", "LOAN"},
		},
		{
			name:  "per slot data in base_resp, income spelled both ways",
			reply: `{"base_resp":{"ret":0,"err_msg":"ok"},"list":[{"slot_id":"SLOT_ID_WEAPP_BANNER","ad_slot":"SLOT_ID_WEAPP_BANNER","date":"2026-01-02","req_succ_count":110,"exposure_count":100,"exposure_rate":0.909,"click_count":2,"click_rate":"0.02","income":150,"ecpm":"15.00"},{"ad_slot":"SLOT_ID_WEAPP_COVER","date":"2026-01-02","exposure_count":"10","publisher_income":"30","ecpm":30}],"summary":{"exposure_count":110,"publisher_income":180},"total_num":2}`,
			path:  "/wxa/operationams", action: "agency_get_adpos_genenral",
			call: func(c *wechat.Client) (any, error) {
				r, err := c.GetAdposGeneral(ctx, "tok", janQuery)
				return []any{r.TotalNum, r.List[0].PublisherIncome, r.List[1].PublisherIncome, r.Summary.PublisherIncome, r.List[0].ExposureRate, r.List[1].ExposureCount, r.List[0].SlotID}, err
			},
			want: []any{wechat.Int(2), wechat.Fen(150), wechat.Fen(30), wechat.Fen(180), wechat.Decimal("0.909"), wechat.Int(10), wechat.Text(wechat.SlotBanner)},
		},
		{
			name: "per slot data failing in base_resp", reply: `{"base_resp":{"ret":-202,"err_msg":"inner error"}}`, path: "/wxa/operationams", action: "agency_get_adpos_genenral",
			call: func(c *wechat.Client) (any, error) { return c.GetAdposGeneral(ctx, "tok", janQuery) },
			code: -202, shape: "base_resp",
		},
		{
			name: "base_resp spelled errcode/errmsg", reply: `{"base_resp":{"errcode":1735,"errmsg":"publisher have not authorized agency"}}`, path: "/wxa/operationams", action: "agency_get_adunit_general",
			call: func(c *wechat.Client) (any, error) { return c.GetAdUnitGeneral(ctx, "tok", janQuery) },
			code: 1735, shape: "base_resp",
		},
		{
			name:  "per unit data, stat_item as an object",
			reply: `{"base_resp":{"ret":0},"list":[{"ad_unit_id":"adunit-a","ad_unit_name":"首页","stat_item":{"ad_slot":"SLOT_ID_WEAPP_BANNER","date":"2026-01-02","exposure_count":100,"publisher_income":"150"}}],"total_num":1}`,
			path:  "/wxa/operationams", action: "agency_get_adunit_general",
			call: func(c *wechat.Client) (any, error) {
				r, err := c.GetAdUnitGeneral(ctx, "tok", janQuery)
				return []any{len(r.List[0].StatItem), r.List[0].StatItem[0].PublisherIncome, r.List[0].StatItem[0].Date}, err
			},
			want: []any{1, wechat.Fen(150), "2026-01-02"},
		},
		{
			name:  "settlement in base_resp, amounts and mail count as strings",
			reply: `{"base_resp":{"ret":0,"err_msg":""},"revenue_all":"10000","penalty_all":300,"settled_revenue_all":9700,"settlement_list":[{"date":"2026-01-15","zone":"2026年1月1日-15日","month":"202601","order":1,"sett_status":5,"settled_revenue":9700,"sett_no":"S2026011","mail_send_cnt":"1","slot_revenue":[{"slot_id":"SLOT_ID_WEAPP_BANNER","slot_settled_revenue":"9700"}]}],"total_num":1}`,
			path:  "/wxa/operationams", action: "agency_get_settlement",
			call: func(c *wechat.Client) (any, error) {
				return c.GetSettlement(ctx, "tok", "2026-01-01", "2026-01-31", 1, 10)
			},
			want: wechat.Settlement{RevenueAll: 10000, PenaltyAll: 300, SettledRevenueAll: 9700, TotalNum: 1, List: []wechat.SettlementItem{{
				Date: "2026-01-15", Zone: "2026年1月1日-15日", Month: "202601", Order: 1, SettStatus: 5, SettledRevenue: 9700, SettNo: "S2026011", MailSendCnt: 1,
				SlotRevenue: wechat.List[wechat.SlotRevenue]{{SlotID: wechat.SlotBanner, SlotSettledRevenue: 9700}},
			}}},
		},
		{
			name: "share ratio without any ret", reply: `{"share_ratio":50}`, path: "/wxa/getdefaultamsinfo", action: "get_share_ratio",
			call: func(c *wechat.Client) (any, error) { return c.GetShareRatio(ctx, "ctok", "wxapp") },
			want: 50,
		},
		{
			name: "share ratio in the errcode shape", reply: `{"errcode":0,"errmsg":"ok","share_ratio":"40"}`, path: "/wxa/getdefaultamsinfo", action: "get_share_ratio",
			call: func(c *wechat.Client) (any, error) { return c.GetShareRatio(ctx, "ctok", "wxapp") },
			want: 40,
		},
		{
			name: "set share ratio answered in base_resp (read as -1 by a console that reads one shape)", reply: `{"base_resp":{"ret":0,"err_msg":"ok"}}`, path: "/wxa/setdefaultamsinfo", action: "set_share_ratio",
			call: func(c *wechat.Client) (any, error) { return nil, c.SetShareRatio(ctx, "ctok", 20) },
		},
		{
			name: "custom ratio none set", reply: `{"ret":2061,"err_msg":"no custom share ratio"}`, path: "/wxa/getdefaultamsinfo", action: "agency_get_custom_share_ratio",
			call: func(c *wechat.Client) (any, error) {
				r, set, err := c.GetCustomShareRatio(ctx, "ctok", "wxapp")
				return []any{r, set}, err
			},
			want: []any{0, false},
		},
		{
			name: "custom ratio set", reply: `{"ret":0,"share_ratio":35}`, path: "/wxa/getdefaultamsinfo", action: "agency_get_custom_share_ratio",
			call: func(c *wechat.Client) (any, error) {
				r, set, err := c.GetCustomShareRatio(ctx, "ctok", "wxapp")
				return []any{r, set}, err
			},
			want: []any{35, true},
		},
		{
			name: "set custom ratio refused: permission", reply: `{"errcode":48001,"errmsg":"api unauthorized"}`, path: "/wxa/setdefaultamsinfo", action: "agency_set_custom_share_ratio",
			call: func(c *wechat.Client) (any, error) { return nil, c.SetCustomShareRatio(ctx, "ctok", "wxapp", 20) },
			code: 48001, shape: "errcode",
		},
		{
			name:  "provider totals, agency_income as a boolean",
			reply: `{"ret":0,"summary":{"req_succ_count":1000,"exposure_count":900,"click_count":9,"income":2000,"publisher_income":1400,"agency_income":600,"ecpm":"2222.22","exposure_rate":0.9,"click_rate":0.01,"exposure_uv":300,"open_uv":"500"},"list":[{"date":"2026-01-02","publisher_appid":"wxapp","income":2000,"publisher_income":1400,"agency_income":true}],"total_num":1}`,
			path:  "/wxa/getdefaultamsinfo", action: "get_agency_ads_stat",
			call: func(c *wechat.Client) (any, error) {
				r, err := c.GetAgencyAdsStat(ctx, "ctok", janQuery)
				return []any{r.Summary.Income, r.Summary.PublisherIncome, r.Summary.AgencyIncome, r.Summary.OpenUV, r.List[0].PublisherAppID, r.List[0].AgencyIncome}, err
			},
			want: []any{wechat.Fen(2000), wechat.Fen(1400), wechat.Fen(600), wechat.Int(500), "wxapp", wechat.Fen(0)},
		},
		{
			name:  "provider per unit detail",
			reply: `{"ret":0,"list":[{"ad_unit_id":"adunit-a","ad_unit_name":"首页","appid":"wxapp","stat_item":{"exposure_count":100,"income":150,"publisher_income":105,"agency_income":45}}],"total_num":1}`,
			path:  "/wxa/getdefaultamsinfo", action: "get_agency_ads_detail",
			call: func(c *wechat.Client) (any, error) {
				r, err := c.GetAgencyAdsDetail(ctx, "ctok", janQuery)
				tot := r.List[0].Total()
				return []any{r.List[0].AppID, tot.Income, tot.PublisherIncome, tot.AgencyIncome}, err
			},
			want: []any{"wxapp", wechat.Fen(150), wechat.Fen(105), wechat.Fen(45)},
		},
		{
			name:  "provider settlement",
			reply: `{"ret":0,"revenue_all":500,"penalty_all":0,"settled_revenue_all":500,"settlement_list":[],"total_num":0}`,
			path:  "/wxa/getdefaultamsinfo", action: "get_agency_settled_revenue",
			call: func(c *wechat.Client) (any, error) {
				r, err := c.GetAgencySettledRevenue(ctx, "ctok", "2026-01-01", "2026-01-31", 1, 10)
				return r.SettledRevenueAll, err
			},
			want: wechat.Fen(500),
		},
		{
			name: "the component token on an authorizer action", reply: `{"ret":1736,"err_msg":"inner error thirdid is empty"}`, path: "/wxa/operationams", action: "agency_get_black_list",
			call: func(c *wechat.Client) (any, error) { return c.GetBlackList(ctx, "ctok") },
			code: 1736, shape: "ret",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := serveBody(t, tc.reply)
			got, err := tc.call(c)
			assert.Equal(t, tc.path, rec.path)
			assert.Equal(t, tc.action, rec.action)
			if tc.code != 0 {
				requireCode(t, err, tc.code, tc.shape)
				return
			}
			require.NoError(t, err)
			if tc.want != nil {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

// TestRequestsAsWeChatWantsThem checks the bodies that WeChat is picky about.
func TestRequestsAsWeChatWantsThem(t *testing.T) {
	ctx := context.Background()
	c, rec := serveBody(t, `{"ret":0}`)

	require.NoError(t, c.SetBlackList(ctx, "tok", true, []wechat.BlockEntry{{Type: wechat.BlockMiniProgram, ID: "gh_abc"}}))
	assert.Equal(t, float64(1), rec.body["op"])
	list, isString := rec.body["list"].(string)
	require.True(t, isString, "list must be a JSON string, not an array")
	assert.JSONEq(t, `[{"type":4,"id":"gh_abc"}]`, list)

	_, _ = c.CreateAdUnit(ctx, "tok", wechat.NewAdUnit{Name: "t", Slot: wechat.SlotTemplate, TmplID: "1000001"})
	assert.Equal(t, "1000001", rec.body["tmpl_id"], "tmpl_id is sent as a string")
	assert.NotContains(t, rec.body, "tmpl_type")
	_, _ = c.CreateAdUnit(ctx, "tok", wechat.NewAdUnit{Name: "t", Slot: wechat.SlotTemplate, TmplType: 2})
	assert.Equal(t, float64(2), rec.body["tmpl_type"])

	require.NoError(t, c.UpdateAdUnit(ctx, "tok", wechat.AdUnitUpdate{AdUnitID: "adunit-a", Name: "n", On: true}))
	assert.Equal(t, "AD_UNIT_STATUS_ON", rec.body["status"])
	assert.Equal(t, "agency_update_adunit", rec.action, "not the create action WeChat's example shows")

	require.NoError(t, c.SetCoverAdposScene(ctx, "tok", wechat.SceneList{1001, 1089}))
	assert.Equal(t, "1001,1089", rec.body["cover_scene_list"])
	require.NoError(t, c.SetCoverAdposStatus(ctx, "tok", false))
	assert.Equal(t, float64(4), rec.body["status"])

	require.NoError(t, c.SetAmsCategoryBlacklist(ctx, "tok", []string{"CHESS", "SECURITES"}))
	assert.Equal(t, "CHESS|SECURITES", rec.body["ams_category"])

	_, _ = c.GetAdposGeneral(ctx, "tok", janQuery)
	assert.Equal(t, "agency_get_adpos_genenral", rec.action, "WeChat's spelling")

	require.NoError(t, c.SetCustomShareRatio(ctx, "ctok", "wxapp", 25))
	assert.Equal(t, "/wxa/setdefaultamsinfo", rec.path)
	assert.Equal(t, "ctok", rec.token)
	assert.Equal(t, "wxapp", rec.body["appid"])
}

// TestInvalidRequestsAreNotSent refuses, before sending, what WeChat answers with 1700.
func TestInvalidRequestsAreNotSent(t *testing.T) {
	ctx := context.Background()
	c, rec := serveBody(t, `{"ret":0,"ad_unit_id":"x"}`)
	for _, n := range []wechat.NewAdUnit{
		{Slot: wechat.SlotBanner},
		{Name: "v", Slot: wechat.SlotRewardVideo, VideoDurationMin: 6, VideoDurationMax: 20},
		{Name: "v", Slot: wechat.SlotRewardVideo, VideoDurationMin: 5, VideoDurationMax: 15},
		{Name: "v", Slot: wechat.SlotRewardVideo, VideoDurationMin: 31, VideoDurationMax: 30},
		{Name: "t", Slot: wechat.SlotTemplate},
		{Name: "t", Slot: wechat.SlotTemplate, TmplType: 1, TmplID: "1"},
		{Name: "c", Slot: wechat.SlotCover},
		{Name: "x", Slot: "SLOT_ID_NOPE"},
	} {
		_, err := c.CreateAdUnit(ctx, "tok", n)
		assert.ErrorIs(t, err, wechat.ErrInvalidAdUnit, "%+v", n)
	}
	for _, d := range [][2]int{{6, 15}, {6, 30}, {6, 60}, {15, 15}} {
		_, err := c.CreateAdUnit(ctx, "tok", wechat.NewAdUnit{Name: "v", Slot: wechat.SlotRewardVideo, VideoDurationMin: d[0], VideoDurationMax: d[1]})
		assert.NoError(t, err, d)
	}
	rec.action = ""
	_, err := c.GetAgencyAdsDetail(ctx, "ctok", wechat.StatQuery{Page: 1, PageSize: 201, StartDate: "2026-01-01", EndDate: "2026-01-01"})
	assert.Error(t, err)
	assert.Error(t, c.SetBlackList(ctx, "tok", true, []wechat.BlockEntry{{Type: 5, ID: "x"}}))
	assert.Error(t, c.SetAmsCategoryBlacklist(ctx, "tok", []string{"SECURITIES"}), "WeChat spells it SECURITES")
	assert.Error(t, c.SetShareRatio(ctx, "ctok", 101))
	assert.Empty(t, rec.action, "nothing was sent")
}
