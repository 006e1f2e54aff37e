package alert_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
)

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url      string
		loopback bool
		shown    string
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", false, "https://qyapi.weixin.qq.com"},
		{"https://oapi.dingtalk.com/robot/send?access_token=abc", false, "https://oapi.dingtalk.com"},
		{"http://127.0.0.1:8081/hook", true, "http://127.0.0.1:8081"},
		{"http://localhost/hook", true, "http://localhost"},
		{"http://[::1]:9/hook", true, "http://[::1]:9"},
		{"http://127.0.0.1:8081/hook", false, ""},
		{"http://10.0.0.1/hook", true, ""},
		{"http://example.com/hook", true, ""},
		{"https://user:pass@example.com/hook", false, ""},
		{"https://user@example.com/hook", false, ""},
		{"https://example.com/hook#frag", false, ""},
		{"javascript:alert(1)", true, ""},
		{"//example.com/hook", false, ""},
		{"", false, ""},
	} {
		shown, err := alert.ValidateURL(tc.url, tc.loopback)
		if tc.shown == "" {
			require.Error(t, err, tc.url)
			require.Equal(t, core.EINVALID, core.ErrorCode(err), tc.url)
			continue
		}
		require.NoError(t, err, tc.url)
		require.Equal(t, tc.shown, shown, tc.url)
	}
}

// An error sending never carries the robot's URL (its key) nor its secret:
// it is logged by the queue and shown on the settings page.
func TestSendErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"errcode":93000,"errmsg":"invalid webhook url, key=` + r.URL.Query().Get("key") + `"}`))
	}))
	defer refusing.Close()
	s := &alert.Sender{Lang: i18n.EN, BaseURL: "https://console.example.com", HTTP: &http.Client{Timeout: 5 * time.Second}}
	e := alert.Event{Kind: alert.EventTest, Path: "/settings/alerts", Name: "admin"}
	for _, base := range []string{dead.URL, refusing.URL} {
		err := s.Send(context.Background(), alert.Dest{Kind: alert.KindWeCom, URL: base + "/send?key=secret-key-42"}, e)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secret-key-42")
	}
	var perm *alert.PermanentError
	err := s.Send(context.Background(), alert.Dest{Kind: alert.KindWeCom, URL: refusing.URL + "/send?key=k"}, e)
	require.ErrorAs(t, err, &perm, "a wrong key is not retried")
	require.True(t, strings.HasPrefix(err.Error(), "the robot answered 93000"), err.Error())
}

func TestMessagesAreWrittenInTheConsolesLanguage(t *testing.T) {
	t.Parallel()
	e := alert.Event{Kind: alert.EventRunFinished, RunID: 7, Action: "open", Total: 10, Succeeded: 8, NeedsMerchant: 2}
	title, text := alert.Message(e, i18n.ZH)
	require.Equal(t, "批量任务 #7 已完成", title)
	require.Contains(t, text, "开通流量主，共 10 个账号。")
	require.Contains(t, text, "成功：8 · 需要商户处理：2")
	title, _ = alert.Message(e, i18n.EN)
	require.Equal(t, "Run #7 finished", title)
}

// A receiver checks the webhook signature with VerifyWebhook; a changed body
// or an old timestamp fails.
func TestWebhookSignatureVerifies(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s := &alert.Sender{Lang: i18n.EN, BaseURL: "https://c.example.com", Now: func() time.Time { return now }}
	req, err := s.Request(context.Background(), alert.Dest{Kind: alert.KindWebhook, URL: "https://h.example.com/x", Secret: "whsec_test"}, alert.Event{Kind: alert.EventTest, Path: "/settings/alerts"})
	require.NoError(t, err)
	body := make([]byte, req.ContentLength)
	_, _ = req.Body.Read(body)
	require.True(t, alert.VerifyWebhook("whsec_test", req.Header, body, now, 5*time.Minute))
	require.False(t, alert.VerifyWebhook("whsec_other", req.Header, body, now, 5*time.Minute))
	require.False(t, alert.VerifyWebhook("whsec_test", req.Header, append(body, ' '), now, 5*time.Minute))
	require.False(t, alert.VerifyWebhook("whsec_test", req.Header, body, now.Add(time.Hour), 5*time.Minute))
}

// What the settings page shows of the events and kinds reads in Chinese too.
func TestEventsAndKindsHaveChinese(t *testing.T) {
	t.Parallel()
	for _, e := range alert.Events {
		require.True(t, i18n.HasZH(e.Label), e.Label)
		require.True(t, i18n.HasZH(e.Help), e.Help)
	}
	for _, k := range alert.Kinds {
		require.True(t, i18n.HasZH(alert.KindLabel(k)), k)
	}
}
