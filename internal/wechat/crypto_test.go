package wechat_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Known-answer vector computed with the openssl and coreutils CLIs, not with this package:
//
//	KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE
//	KEYHEX=$(echo -n "$KEY=" | base64 -d | xxd -p -c 64)   # 69b71d79...00831051
//	IVHEX=${KEYHEX:0:32}
//	{ printf '0123456789abcdef'; printf '\x00\x00\x00\xde'; printf '%s' "$XML"; printf 'wxcomponent0001';
//	  for i in $(seq 31); do printf '\x1f'; done; } > plain.bin        # 288 bytes, 31 bytes of PKCS#7 padding
//	openssl enc -aes-256-cbc -K $KEYHEX -iv $IVHEX -nopad -in plain.bin | base64 -w0
//	printf '%s\n' katToken 1700000000 nonce123 "$ENC" | LC_ALL=C sort | tr -d '\n' | sha1sum
const (
	katKey       = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE"
	katAppID     = "wxcomponent0001"
	katToken     = "katToken"
	katTimestamp = "1700000000"
	katNonce     = "nonce123"
	katXML       = `<xml><AppId><![CDATA[wxcomponent0001]]></AppId><CreateTime>1700000000</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[ticket@@@kat-vector]]></ComponentVerifyTicket></xml>`
	katEncrypt   = "Q3stYC6hdFzMh9T8HCvyDNeUphVuBmNmQ3TMWvUOiU7rFrCxXp6lGe16TOZPJgRY93b/Y9Gj2Xp+i3OZZ5y9yVOz0ry4qKEla3HThbZQfvs0l2vIgee/fpWkOEfb0zoHM0jctRngpiQ0BZTvLAP3dScmPA6+5/ahXAYB137mvRGjvlZKJV6CwkclflAqIHB+suBhbieQQYWWbdb2DWbnlQqvQowV8NeJgzJNMY6mGgPPLHq+W2vfMRWMidNy5WhcCEDN7X9bV2QJcIIA5ktQ0llO9jdEbiBqCOH4Y1ZuyXkvmZ0fuLEPD1WjvgigYxwIbEGsjaDDZFL2riracRMAMhbbyjU1Ab6bffJ4vZ//FRU8LhG75o+RIdXod3TNvl6c"
	katSignature = "a43ac8b91a499b1baff4da88ee18b7d2d4992050"

	otherKey = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuE"
)

func newKATCrypter(t *testing.T, previous string) *wechat.Crypter {
	t.Helper()
	c, err := wechat.NewCrypter(katToken, katKey, previous, katAppID)
	require.NoError(t, err)
	return c
}

func TestKnownAnswer(t *testing.T) {
	c := newKATCrypter(t, "")
	assert.Equal(t, katSignature, wechat.Signature(katToken, katTimestamp, katNonce, katEncrypt))
	assert.True(t, c.Verify(katSignature, katTimestamp, katNonce, katEncrypt))

	plain, err := c.Decrypt(katEncrypt)
	require.NoError(t, err)
	assert.Equal(t, katXML, string(plain))

	q := url.Values{"timestamp": {katTimestamp}, "nonce": {katNonce}, "msg_signature": {katSignature}, "encrypt_type": {"aes"}}
	body := []byte("<xml>\n<AppId><![CDATA[" + katAppID + "]]></AppId>\n<Encrypt><![CDATA[" + katEncrypt + "]]></Encrypt>\n</xml>")
	ev, err := c.Open(q, body)
	require.NoError(t, err)
	assert.Equal(t, "component_verify_ticket", ev.InfoType)
	assert.Equal(t, "ticket@@@kat-vector", ev.ComponentVerifyTicket)
	assert.Equal(t, katAppID, ev.AppID)
	assert.Equal(t, time.Unix(1700000000, 0), ev.CreateTime)
}

func TestNewCrypterErrors(t *testing.T) {
	_, err := wechat.NewCrypter("t", "short", "", katAppID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "current")

	_, err = wechat.NewCrypter("t", katKey, "short", katAppID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "previous")

	_, err = wechat.NewCrypter("t", strings.Repeat("!", 43), "", katAppID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "current")

	_, err = wechat.NewCrypter("", katKey, "", katAppID)
	require.Error(t, err)
	_, err = wechat.NewCrypter("t", katKey, "", "")
	require.Error(t, err)

	// Real keys are random, so the 43rd character often leaves non-zero trailing bits.
	_, err = wechat.NewCrypter("t", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "", katAppID)
	require.NoError(t, err)
}

func TestRoundTrip(t *testing.T) {
	c := newKATCrypter(t, "")
	for _, msg := range []string{"", "x", strings.Repeat("a", 11), strings.Repeat("<b/>", 1000), "中文消息"} {
		enc, err := c.Encrypt([]byte(msg))
		require.NoError(t, err)
		got, err := c.Decrypt(enc)
		require.NoError(t, err)
		assert.Equal(t, msg, string(got))
	}
}

func TestWrongKey(t *testing.T) {
	c := newKATCrypter(t, "")
	other, err := wechat.NewCrypter(katToken, otherKey, "", katAppID)
	require.NoError(t, err)
	enc, err := other.Encrypt([]byte("<xml/>"))
	require.NoError(t, err)
	_, err = c.Decrypt(enc)
	require.Error(t, err)
}

func TestPreviousKeyRotation(t *testing.T) {
	old, err := wechat.NewCrypter(katToken, otherKey, "", katAppID)
	require.NoError(t, err)
	enc, err := old.Encrypt([]byte("<xml>old</xml>"))
	require.NoError(t, err)

	rotated := newKATCrypter(t, otherKey)
	got, err := rotated.Decrypt(enc)
	require.NoError(t, err)
	assert.Equal(t, "<xml>old</xml>", string(got))

	got, err = rotated.Decrypt(katEncrypt)
	require.NoError(t, err)
	assert.Equal(t, katXML, string(got))
}

func TestAppIDMismatch(t *testing.T) {
	other, err := wechat.NewCrypter(katToken, katKey, "", "wxsomeoneelse")
	require.NoError(t, err)
	enc, err := other.Encrypt([]byte("<xml/>"))
	require.NoError(t, err)
	_, err = newKATCrypter(t, "").Decrypt(enc)
	assert.ErrorIs(t, err, wechat.ErrAppIDMismatch)

	// The envelope AppId is checked too, after the signature.
	q, body, err := other.Seal([]byte("<xml><InfoType>x</InfoType></xml>"), "1", "n")
	require.NoError(t, err)
	_, err = newKATCrypter(t, "").Open(q, body)
	assert.ErrorIs(t, err, wechat.ErrAppIDMismatch)
}

// rawEncrypt encrypts an arbitrary plaintext with the KAT key using only the standard library.
func rawEncrypt(t *testing.T, plain []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(katKey + "=")
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

func buildPlain(msg, appID string, padFn func(n int) []byte) []byte {
	p := []byte("0123456789abcdef")
	p = binary.BigEndian.AppendUint32(p, uint32(len(msg)))
	p = append(p, msg...)
	p = append(p, appID...)
	return append(p, padFn(32-len(p)%32)...)
}

func TestBadPadding(t *testing.T) {
	c := newKATCrypter(t, "")
	cases := map[string]func(n int) []byte{
		"zero pad byte": func(n int) []byte { return make([]byte, n) },
		"inconsistent": func(n int) []byte {
			b := bytes.Repeat([]byte{byte(n)}, n)
			if n > 1 {
				b[0] = 7
			} else {
				b[0] = 0
			}
			return b
		},
		"pad over 32": func(n int) []byte { return bytes.Repeat([]byte{33}, n) },
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.Decrypt(rawEncrypt(t, buildPlain("<xml/>", katAppID, fn)))
			assert.ErrorIs(t, err, wechat.ErrMalformed)
		})
	}
	// Correct padding over 32 bytes, not 16, decrypts.
	ok := buildPlain("<xml/>", katAppID, func(n int) []byte { return bytes.Repeat([]byte{byte(n)}, n) })
	got, err := c.Decrypt(rawEncrypt(t, ok))
	require.NoError(t, err)
	assert.Equal(t, "<xml/>", string(got))

	// A declared length beyond the plaintext is rejected, not sliced.
	p := buildPlain("<xml/>", katAppID, func(n int) []byte { return bytes.Repeat([]byte{byte(n)}, n) })
	binary.BigEndian.PutUint32(p[16:20], 0xffffffff)
	_, err = c.Decrypt(rawEncrypt(t, p))
	assert.ErrorIs(t, err, wechat.ErrMalformed)
}

func TestTruncatedInput(t *testing.T) {
	c := newKATCrypter(t, "")
	raw, err := base64.StdEncoding.DecodeString(katEncrypt)
	require.NoError(t, err)
	for _, n := range []int{0, 1, 15, 16, 17, 32, len(raw) - 16, len(raw) - 1} {
		_, err := c.Decrypt(base64.StdEncoding.EncodeToString(raw[:n]))
		assert.Error(t, err, "len %d", n)
	}
	_, err = c.Decrypt("not base64!!")
	assert.ErrorIs(t, err, wechat.ErrMalformed)
	_, err = c.Decrypt(katEncrypt[:len(katEncrypt)-4])
	assert.Error(t, err)
}

func TestBadSignature(t *testing.T) {
	c := newKATCrypter(t, "")
	q, body, err := c.Seal([]byte(katXML), "1700000000", "abc")
	require.NoError(t, err)
	_, err = c.Open(q, body)
	require.NoError(t, err)

	for _, mutate := range []func(url.Values){
		func(q url.Values) { q.Set("msg_signature", strings.Repeat("0", 40)) },
		func(q url.Values) { q.Set("timestamp", "1700000001") },
		func(q url.Values) { q.Set("nonce", "abd") },
		func(q url.Values) { q.Del("msg_signature") },
	} {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = append([]string(nil), v...)
		}
		mutate(q2)
		_, err := c.Open(q2, body)
		assert.ErrorIs(t, err, wechat.ErrBadSignature)
	}
	wrongToken, err := wechat.NewCrypter("other", katKey, "", katAppID)
	require.NoError(t, err)
	_, err = wrongToken.Open(q, body)
	assert.ErrorIs(t, err, wechat.ErrBadSignature)
}

func TestParseEnvelopeAndEvent(t *testing.T) {
	appID, enc, err := wechat.ParseEnvelope([]byte("<xml><AppId>wx1</AppId><Encrypt>abc</Encrypt></xml>"))
	require.NoError(t, err)
	assert.Equal(t, "wx1", appID)
	assert.Equal(t, "abc", enc)

	for _, bad := range []string{"", "<html>", "<xml><AppId>wx1</AppId></xml>", "{}", "<xml><Encrypt>" + strings.Repeat("a", wechat.MaxPushBodySize) + "</Encrypt></xml>"} {
		_, _, err := wechat.ParseEnvelope([]byte(bad))
		assert.ErrorIs(t, err, wechat.ErrMalformed)
	}

	ev, err := wechat.ParseEvent([]byte(`<xml><AppId><![CDATA[wxc]]></AppId><CreateTime>1413192760</CreateTime><InfoType><![CDATA[authorized]]></InfoType><AuthorizerAppid><![CDATA[wxa]]></AuthorizerAppid><AuthorizationCode><![CDATA[code]]></AuthorizationCode><AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[pre]]></PreAuthCode></xml>`))
	require.NoError(t, err)
	assert.Equal(t, "authorized", ev.InfoType)
	assert.Equal(t, "wxa", ev.AuthorizerAppID)
	assert.Equal(t, "code", ev.AuthorizationCode)
	assert.Equal(t, "pre", ev.PreAuthCode)
	assert.Equal(t, time.Unix(1413196360, 0), ev.AuthorizationCodeExpiredTime)

	_, err = wechat.ParseEvent([]byte(`<xml><InfoType>component_verify_ticket</InfoType></xml>`))
	assert.ErrorIs(t, err, wechat.ErrMalformed)
	_, err = wechat.ParseEvent([]byte(`<xml><InfoType>x</InfoType><CreateTime>soon</CreateTime></xml>`))
	assert.ErrorIs(t, err, wechat.ErrMalformed)
	_, err = wechat.ParseEvent([]byte(`<xml></xml>`))
	assert.ErrorIs(t, err, wechat.ErrMalformed)
}

func TestErrorsAreDistinct(t *testing.T) {
	assert.False(t, errors.Is(wechat.ErrBadSignature, wechat.ErrMalformed))
	assert.False(t, errors.Is(wechat.ErrAppIDMismatch, wechat.ErrMalformed))
}
