package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the push pipeline; they are wrapped, so use errors.Is.
var (
	ErrBadSignature  = errors.New("wechat: push signature mismatch")
	ErrAppIDMismatch = errors.New("wechat: push is for a different component appid")
	ErrMalformed     = errors.New("wechat: malformed push")
)

// MaxPushBodySize bounds the envelope read from the event URL; real pushes are a few KiB.
const MaxPushBodySize = 1 << 20

// blockSize is WeChat's PKCS#7 block size, which differs from the AES block size.
const blockSize = 32

// Crypter verifies, decrypts and encrypts pushes with WeChat's message encryption scheme.
type Crypter struct {
	Token          string
	ComponentAppID string
	keys           [][]byte // current first, then previous
}

func decodeAESKey(name, key string) ([]byte, error) {
	if len(key) != 43 {
		return nil, fmt.Errorf("wechat: %s EncodingAESKey must be 43 characters, got %d", name, len(key))
	}
	k, err := base64.StdEncoding.DecodeString(key + "=")
	if err != nil {
		return nil, fmt.Errorf("wechat: %s EncodingAESKey is not valid base64", name)
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("wechat: %s EncodingAESKey decodes to %d bytes, want 32", name, len(k))
	}
	return k, nil
}

// NewCrypter builds a Crypter. previousEncodingAESKey may be empty; it lets
// pushes made during a key rotation still be read.
func NewCrypter(token, encodingAESKey, previousEncodingAESKey, componentAppID string) (*Crypter, error) {
	if token == "" {
		return nil, errors.New("wechat: push token is empty")
	}
	if componentAppID == "" {
		return nil, errors.New("wechat: component appid is empty")
	}
	cur, err := decodeAESKey("current", encodingAESKey)
	if err != nil {
		return nil, err
	}
	c := &Crypter{Token: token, ComponentAppID: componentAppID, keys: [][]byte{cur}}
	if previousEncodingAESKey != "" {
		prev, err := decodeAESKey("previous", previousEncodingAESKey)
		if err != nil {
			return nil, err
		}
		c.keys = append(c.keys, prev)
	}
	return c, nil
}

// Signature computes WeChat's msg_signature over the sorted parts.
func Signature(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Verify checks msg_signature in constant time so it cannot be guessed byte by byte.
func (c *Crypter) Verify(msgSignature, timestamp, nonce, encrypt string) bool {
	want := Signature(c.Token, timestamp, nonce, encrypt)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(msgSignature))) == 1
}

// Decrypt returns the XML message, trying the current key and then the previous one.
func (c *Crypter) Decrypt(encrypt string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encrypt))
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrMalformed)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext length %d is not a positive multiple of %d", ErrMalformed, len(ct), aes.BlockSize)
	}
	var firstErr error
	for _, key := range c.keys {
		msg, err := c.decryptWith(key, ct)
		if err == nil {
			return msg, nil
		}
		if firstErr == nil || errors.Is(err, ErrAppIDMismatch) {
			firstErr = err
		}
	}
	return nil, firstErr
}

func (c *Crypter) decryptWith(key, ct []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) {
		return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, fmt.Errorf("%w: plaintext too short", ErrMalformed)
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, fmt.Errorf("%w: message length %d exceeds plaintext", ErrMalformed, n)
	}
	msg := plain[20 : 20+int(n)]
	if appID := string(plain[20+int(n):]); appID != c.ComponentAppID {
		return nil, ErrAppIDMismatch
	}
	return bytes.Clone(msg), nil
}

// Encrypt encrypts msg with the current key exactly as WeChat does.
func (c *Crypter) Encrypt(msg []byte) (string, error) {
	if uint64(len(msg)) > 1<<31 {
		return "", errors.New("wechat: message too large to encrypt")
	}
	key := c.keys[0]
	plain := make([]byte, 20, 20+len(msg)+len(c.ComponentAppID)+blockSize)
	if _, err := rand.Read(plain[:16]); err != nil {
		return "", fmt.Errorf("wechat: random prefix: %w", err)
	}
	binary.BigEndian.PutUint32(plain[16:20], uint32(len(msg)))
	plain = append(plain, msg...)
	plain = append(plain, c.ComponentAppID...)
	pad := blockSize - len(plain)%blockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(ct, plain)
	return base64.StdEncoding.EncodeToString(ct), nil
}

// Event is a decrypted authorization-event push.
type Event struct {
	AppID                        string
	CreateTime                   time.Time
	InfoType                     string
	ComponentVerifyTicket        string
	AuthorizerAppID              string
	AuthorizationCode            string
	PreAuthCode                  string
	AuthorizationCodeExpiredTime time.Time
	Raw                          []byte // decrypted XML
}

type envelopeXML struct {
	XMLName    xml.Name `xml:"xml"`
	AppID      string   `xml:"AppId"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
}

// ParseEnvelope extracts the outer, unencrypted fields of a push.
func ParseEnvelope(body []byte) (appID, encrypt string, err error) {
	if len(body) > MaxPushBodySize {
		return "", "", fmt.Errorf("%w: body larger than %d bytes", ErrMalformed, MaxPushBodySize)
	}
	var env envelopeXML
	if err := xml.Unmarshal(body, &env); err != nil {
		return "", "", fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
	}
	encrypt = strings.TrimSpace(env.Encrypt)
	if encrypt == "" {
		return "", "", fmt.Errorf("%w: envelope has no Encrypt", ErrMalformed)
	}
	appID = strings.TrimSpace(env.AppID)
	if appID == "" {
		appID = strings.TrimSpace(env.ToUserName)
	}
	return appID, encrypt, nil
}

type eventXML struct {
	XMLName                      xml.Name `xml:"xml"`
	AppID                        string   `xml:"AppId"`
	CreateTime                   string   `xml:"CreateTime"`
	InfoType                     string   `xml:"InfoType"`
	ComponentVerifyTicket        string   `xml:"ComponentVerifyTicket"`
	AuthorizerAppID              string   `xml:"AuthorizerAppid"`
	AuthorizationCode            string   `xml:"AuthorizationCode"`
	AuthorizationCodeExpiredTime string   `xml:"AuthorizationCodeExpiredTime"`
	PreAuthCode                  string   `xml:"PreAuthCode"`
}

func parseUnix(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is not a unix time", ErrMalformed, field)
	}
	return time.Unix(n, 0), nil
}

// ParseEvent parses a decrypted push. Unknown InfoTypes are returned, not rejected,
// so new event kinds are acknowledged instead of being retried forever by WeChat.
func ParseEvent(plainXML []byte) (Event, error) {
	if len(plainXML) > MaxPushBodySize {
		return Event{}, fmt.Errorf("%w: event larger than %d bytes", ErrMalformed, MaxPushBodySize)
	}
	var x eventXML
	if err := xml.Unmarshal(plainXML, &x); err != nil {
		return Event{}, fmt.Errorf("%w: event: %w", ErrMalformed, err)
	}
	ev := Event{
		AppID:                 strings.TrimSpace(x.AppID),
		InfoType:              strings.TrimSpace(x.InfoType),
		ComponentVerifyTicket: strings.TrimSpace(x.ComponentVerifyTicket),
		AuthorizerAppID:       strings.TrimSpace(x.AuthorizerAppID),
		AuthorizationCode:     strings.TrimSpace(x.AuthorizationCode),
		PreAuthCode:           strings.TrimSpace(x.PreAuthCode),
		Raw:                   bytes.Clone(plainXML),
	}
	if ev.InfoType == "" {
		return Event{}, fmt.Errorf("%w: event has no InfoType", ErrMalformed)
	}
	var err error
	if ev.CreateTime, err = parseUnix("CreateTime", x.CreateTime); err != nil {
		return Event{}, err
	}
	if ev.AuthorizationCodeExpiredTime, err = parseUnix("AuthorizationCodeExpiredTime", x.AuthorizationCodeExpiredTime); err != nil {
		return Event{}, err
	}
	if ev.InfoType == "component_verify_ticket" && ev.ComponentVerifyTicket == "" {
		return Event{}, fmt.Errorf("%w: ticket event without ComponentVerifyTicket", ErrMalformed)
	}
	return ev, nil
}

// Open runs the whole pipeline for a push received on the event URL.
func (c *Crypter) Open(query url.Values, body []byte) (Event, error) {
	appID, encrypt, err := ParseEnvelope(body)
	if err != nil {
		return Event{}, err
	}
	if !c.Verify(query.Get("msg_signature"), query.Get("timestamp"), query.Get("nonce"), encrypt) {
		return Event{}, ErrBadSignature
	}
	if appID != "" && appID != c.ComponentAppID {
		return Event{}, ErrAppIDMismatch
	}
	plain, err := c.Decrypt(encrypt)
	if err != nil {
		return Event{}, err
	}
	ev, err := ParseEvent(plain)
	if err != nil {
		return Event{}, err
	}
	if ev.AppID != "" && ev.AppID != c.ComponentAppID {
		return Event{}, ErrAppIDMismatch
	}
	return ev, nil
}

// Seal builds a push exactly as WeChat sends it, for simulators and tests.
func (c *Crypter) Seal(eventXML []byte, timestamp, nonce string) (url.Values, []byte, error) {
	encrypt, err := c.Encrypt(eventXML)
	if err != nil {
		return nil, nil, err
	}
	plainSig := sha1.Sum([]byte(strings.Join(sorted(c.Token, timestamp, nonce), "")))
	q := url.Values{
		"signature":     {hex.EncodeToString(plainSig[:])},
		"timestamp":     {timestamp},
		"nonce":         {nonce},
		"encrypt_type":  {"aes"},
		"msg_signature": {Signature(c.Token, timestamp, nonce, encrypt)},
	}
	body := fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><Encrypt><![CDATA[%s]]></Encrypt></xml>", c.ComponentAppID, encrypt)
	return q, body, nil
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}
