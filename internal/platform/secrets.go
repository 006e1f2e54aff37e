package platform

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// pushSecretRE matches the elements of a push that hold a secret: the verify
// ticket, the authorization code and the pre-auth code.
var pushSecretRE = regexp.MustCompile(`(?s)<(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)>.*?</(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)>`)

// RedactPushXML blanks the secrets of a decrypted push, so the stored copy
// shows what arrived without being usable by whoever reads the database.
func RedactPushXML(xml string) string {
	return pushSecretRE.ReplaceAllString(xml, "<$1>[redacted]</$2>")
}

// CleanReply makes a WeChat reply fit to store. It removes every token:
// api_get_authorizer_info's authorization_info repeats the account's refresh
// token, which is kept encrypted in its own column and nowhere else. And it
// cleans every text of NUL and other control characters, which a profile may
// hold and which Postgres refuses (a NUL in jsonb fails the whole row).
func CleanReply(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(cleanReply(v))
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

func cleanReply(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if isSecretKey(k) || k != core.CleanText(k, 0) {
				delete(t, k)
				continue
			}
			t[k] = cleanReply(x)
		}
	case []any:
		for i, x := range t {
			t[i] = cleanReply(x)
		}
	case string:
		return core.CleanText(t, 0)
	}
	return v
}

// CleanProfile cleans the texts of an account's profile before they are
// stored, so a hostile or broken profile is stored readable instead of
// failing the account's sync.
func CleanProfile(info *wechat.AuthorizerInfo) {
	info.NickName = core.CleanText(info.NickName, 256)
	info.HeadImg = core.CleanText(info.HeadImg, 2048)
	info.UserName = core.CleanText(info.UserName, 256)
	info.PrincipalName = core.CleanText(info.PrincipalName, 256)
	info.Raw = CleanReply(info.Raw)
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.HasSuffix(k, "token") || strings.HasSuffix(k, "ticket") || strings.HasSuffix(k, "_code") || strings.Contains(k, "secret")
}
