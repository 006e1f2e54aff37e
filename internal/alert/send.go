package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/i18n"
)

// The headers a signed webhook carries: the Unix time it was signed at and
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). A receiver
// recomputes the signature and refuses old timestamps (replays).
const (
	HeaderTimestamp = "X-Trafficmaster-Timestamp"
	HeaderSignature = "X-Trafficmaster-Signature"
)

// Sender writes an event in the format each target expects and sends it.
type Sender struct {
	HTTP *http.Client
	// Lang is the console's default language, the alerts' language.
	Lang i18n.Lang
	// BaseURL is the console's public URL, for the link back.
	BaseURL string
	Now     func() time.Time
}

// PermanentError is a refusal another try cannot mend (a wrong URL, a
// robot deleted): the delivery fails at once.
type PermanentError struct{ Msg string }

func (e *PermanentError) Error() string { return e.Msg }

// Send delivers e to d once. Its error never carries d's URL or secret:
// robot URLs hold their key, and errors end up in logs and on pages.
func (s *Sender) Send(ctx context.Context, d Dest, e Event) error {
	req, err := s.Request(ctx, d, e)
	if err != nil {
		return err
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error's text holds the whole URL
		}
		return fmt.Errorf("not delivered: %s", scrub(err.Error(), d))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return fmt.Errorf("the receiver answered %d", resp.StatusCode)
	case resp.StatusCode >= 300:
		return &PermanentError{Msg: fmt.Sprintf("the receiver refused the alert: %d", resp.StatusCode)}
	}
	if d.Kind == KindWebhook {
		return nil
	}
	// Both robots answer 200 with an error code in the body.
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.ErrCode == nil {
		return errors.New("the robot's answer could not be read")
	}
	if *r.ErrCode != 0 {
		msg := fmt.Sprintf("the robot answered %d: %s", *r.ErrCode, scrub(clip(r.ErrMsg, 200), d))
		if robotRetryable(*r.ErrCode) {
			return errors.New(msg)
		}
		return &PermanentError{Msg: msg}
	}
	return nil
}

// robotRetryable are the robots' codes for "too many messages" and busy
// servers; every other code (a wrong key, a bad signature, a keyword
// missing) stays wrong however often it is sent.
func robotRetryable(code int) bool {
	switch code {
	case -1, 45009, 45033, 130101:
		return true
	}
	return false
}

// scrub removes the target's URL and secret from a text, should a receiver
// or a library echo them.
func scrub(s string, d Dest) string {
	for _, x := range []string{d.URL, d.Secret} {
		if x != "" {
			s = strings.ReplaceAll(s, x, "…")
		}
	}
	if u, err := url.Parse(d.URL); err == nil && u.RawQuery != "" {
		s = strings.ReplaceAll(s, u.RawQuery, "…")
	}
	return s
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Request builds the HTTP request that delivers e to d.
func (s *Sender) Request(ctx context.Context, d Dest, e Event) (*http.Request, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	link := strings.TrimRight(s.BaseURL, "/") + e.Path
	title, text := Message(e, s.Lang)
	target := d.URL
	header := http.Header{"Content-Type": {"application/json"}}
	var payload any
	switch d.Kind {
	case KindWeCom:
		payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{
			"content": "**" + title + "**\n" + text + "\n[" + i18n.T(s.Lang, "Open in the console") + "](" + link + ")",
		}}
	case KindDingTalk:
		payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{
			"title": title,
			"text":  "#### " + title + "\n\n" + text + "\n\n[" + i18n.T(s.Lang, "Open in the console") + "](" + link + ")",
		}}
		if d.Secret != "" {
			ts := strconv.FormatInt(now().UnixMilli(), 10)
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + "timestamp=" + ts + "&sign=" + url.QueryEscape(DingTalkSign(ts, d.Secret))
		}
	case KindWebhook:
		payload = struct {
			Event EventKind `json:"event"`
			Title string    `json:"title"`
			Text  string    `json:"text"`
			URL   string    `json:"url"`
			Data  Event     `json:"data"`
		}{e.Kind, title, text, link, e}
	default:
		return nil, &PermanentError{Msg: "unknown target kind " + string(d.Kind)}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	if d.Kind == KindWebhook {
		ts := strconv.FormatInt(now().Unix(), 10)
		header.Set(HeaderTimestamp, ts)
		header.Set(HeaderSignature, WebhookSignature(d.Secret, ts, body))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, &PermanentError{Msg: "the target's URL cannot be used"}
	}
	req.Header = header
	return req, nil
}

// DingTalkSign is DingTalk's robot signature: base64(HMAC-SHA256(secret,
// timestamp + "\n" + secret)), timestamp in milliseconds.
func DingTalkSign(timestamp, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WebhookSignature signs a webhook's body: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func WebhookSignature(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a webhook's signature as a receiver does, refusing a
// timestamp more than maxAge from now.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, maxAge time.Duration) bool {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > maxAge {
		return false
	}
	return hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(WebhookSignature(secret, ts, body)))
}

// Message writes an event's title and Markdown text in lang.
func Message(e Event, lang i18n.Lang) (title, text string) {
	t := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
	action := t(actionLabel(e.Action))
	var lines []string
	switch e.Kind {
	case EventRunFinished:
		title = t("Run #%d finished", e.RunID)
		lines = append(lines, t("%s for %d accounts.", action, e.Total), t("Succeeded: %d · Need the merchant: %d", e.Succeeded, e.NeedsMerchant))
	case EventRunPaused:
		title = t("Run #%d paused itself", e.RunID)
		lines = append(lines, t("WeChat answered with a platform-wide error; an administrator must fix the platform's setup, then resume the run."))
	case EventNeedsMerchant:
		title = t("%s needs the merchant", orID(e.Name, e.AppID))
		lines = append(lines, t("%s ended needing the merchant to act in WeChat.", action), "AppID: "+e.AppID)
	case EventPlatformError:
		title = t("The platform cannot reach WeChat")
		lines = append(lines, t("The component access token cannot be obtained; every call to WeChat fails until this is fixed."))
	case EventTest:
		title = t("Test alert")
		lines = append(lines, t("Sent by %s from the alert settings: this target works.", e.Name))
	default:
		title = string(e.Kind)
	}
	if e.Code != nil || e.Message != "" {
		c := ""
		if e.Code != nil {
			c = strconv.Itoa(*e.Code) + " "
		}
		lines = append(lines, t("WeChat: %s", c+clip(e.Message, 300)))
	}
	return title, strings.Join(lines, "\n\n")
}

func actionLabel(a string) string {
	switch a {
	case "check":
		return "Check eligibility"
	case "open":
		return "Open traffic master"
	}
	return "Attempt"
}

func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
