package wechatsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// TestDialectsOnTheWire checks the bodies themselves, so the client's
// tolerance is tested against what each dialect really sends.
func TestDialectsOnTheWire(t *testing.T) {
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, chinaTime)
	s, err := New(Config{ComponentAppID: "wxc", ComponentAppSecret: "s", Token: "t", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE", Now: func() time.Time { return now }})
	require.NoError(t, err)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	require.NoError(t, s.PushTicket(context.Background()))
	c := wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: "wxc", ComponentAppSecret: "s"})
	ctok, err := c.ComponentToken(context.Background(), s.CurrentTicket())
	require.NoError(t, err)
	// An account with a banner (every account with data has one).
	var appID string
	for i := 0; appID == ""; i++ {
		id := "wxdialect" + string(rune('a'+i))
		if !profileOf(id).none {
			appID = id
		}
	}
	s.AddAuthorizer(Authorizer{AppID: appID, MiniProgram: true})
	s.MarkOpened(appID, now.AddDate(0, -1, 0))
	a, _ := s.Authorizer(appID)
	tok, err := c.AuthorizerToken(context.Background(), ctok.Value, appID, a.RefreshToken)
	require.NoError(t, err)

	raw := func(action string, body string) map[string]any {
		resp, err := http.Post(srv.URL+"/wxa/operationams?action="+action+"&access_token="+tok.AccessToken, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), string(b))
		return m
	}
	day := `{"page":1,"page_size":10,"start_date":"2026-01-19","end_date":"2026-01-19","ad_slot":"SLOT_ID_WEAPP_BANNER"}`

	m := raw(wechat.ActionGetAdposGeneral, day)
	assert.Contains(t, m, "base_resp", "usual shape of this action")
	assert.NotContains(t, m, "ret")
	row := m["list"].([]any)[0].(map[string]any)
	assert.IsType(t, float64(0), row["exposure_count"])
	assert.Contains(t, row, "publisher_income")

	s.SetDialect(wechat.ActionGetAdposGeneral, Dialect{Shape: "ret", NumbersAsStrings: true, AltSpelling: true})
	m = raw(wechat.ActionGetAdposGeneral, day)
	assert.Equal(t, float64(0), m["ret"])
	row = m["list"].([]any)[0].(map[string]any)
	assert.IsType(t, "", row["exposure_count"])
	assert.Contains(t, row, "income")
	assert.NotContains(t, row, "publisher_income")

	s.SetDialect(wechat.ActionGetAdUnitList, Dialect{Shape: "bare", ObjectsForSingletons: true})
	m = raw(wechat.ActionGetAdUnitList, `{"page":1,"page_size":10,"ad_slot":"SLOT_ID_WEAPP_BANNER"}`)
	assert.NotContains(t, m, "ret")
	unit := m["ad_unit"].([]any)[0].(map[string]any)
	assert.IsType(t, map[string]any{}, unit["ad_unit_size"])

	s.SetDialect(wechat.ActionGetBlackList, Dialect{Shape: "errcode"})
	m = raw(wechat.ActionGetBlackList, `{}`)
	assert.Equal(t, float64(0), m["errcode"])

	s.SetDialect(wechat.ActionGetAgencyAdUnitList, Dialect{TemplateIDsAsNumbers: true})
	m = raw(wechat.ActionGetAgencyAdUnitList, `{"page":1,"page_size":10,"ad_slot":"SLOT_ID_WEAPP_TEMPLATE"}`)
	assert.IsType(t, float64(0), m["ad_unit_list"].([]any)[0].(map[string]any)["tmpl_id"])

	s.SetDialect(wechat.ActionGetSettlement, Dialect{})
	m = raw(wechat.ActionGetSettlement, `{"page":1,"page_size":10,"start_date":"2026-01-01","end_date":"2026-01-15"}`)
	item := m["settlement_list"].([]any)[0].(map[string]any)
	assert.IsType(t, "", item["mail_send_cnt"], "a string, as documented")
	assert.Equal(t, "202601", item["month"])
}

func TestProfilesVary(t *testing.T) {
	none, slots := 0, map[int]int{}
	for i := range 1000 {
		p := profileOf("wx" + strings.Repeat("0", 10) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)))
		if p.none {
			none++
			continue
		}
		slots[len(p.slots)]++
	}
	assert.InDelta(t, 200, none, 60, "about one account in five has no ads")
	assert.Greater(t, len(slots), 3, "accounts use different numbers of slots")
}
