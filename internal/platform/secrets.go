package platform

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// pushSecretRE matches the elements of a push that hold a secret: the verify
// ticket, the authorization code and the pre-auth code.
var pushSecretRE = regexp.MustCompile(`(?s)<(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)>.*?</(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)>`)

// RedactPushXML blanks the secrets of a decrypted push, so the stored copy
// shows what arrived without being usable by whoever reads the database.
func RedactPushXML(xml string) string {
	return pushSecretRE.ReplaceAllString(xml, "<$1>[redacted]</$2>")
}

// StripTokens removes every token from a WeChat reply before it is stored:
// api_get_authorizer_info's authorization_info repeats the account's refresh
// token, which is kept encrypted in its own column and nowhere else.
func StripTokens(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(stripTokens(v))
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

func stripTokens(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if isSecretKey(k) {
				delete(t, k)
				continue
			}
			t[k] = stripTokens(x)
		}
	case []any:
		for i, x := range t {
			t[i] = stripTokens(x)
		}
	}
	return v
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.HasSuffix(k, "token") || strings.HasSuffix(k, "ticket") || strings.HasSuffix(k, "_code") || strings.Contains(k, "secret")
}
