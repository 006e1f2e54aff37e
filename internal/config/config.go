// Package config parses the console's configuration from the environment once,
// into a validated struct that main passes down.
package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole validated configuration.
type Config struct {
	Addr        string
	DatabaseURL string
	// PublicURL is where staff reach the console; https makes cookies Secure.
	PublicURL string
	// SecretKey (32 bytes) encrypts secrets at rest and signs cookies.
	SecretKey       []byte
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	TimeZone        string
	WeChat          WeChat
	SyncInterval    time.Duration
	// TrustedProxies are the addresses of the reverse proxies in front of the
	// console. Only a request from one of them has its X-Forwarded-For read,
	// and the client is the rightmost address in it that is not a trusted proxy.
	TrustedProxies []netip.Prefix
	// InstanceLease is how long a process counts as alive after it last
	// renewed its lease (every fifth of it); a killed process's work is
	// taken over about this long after its death.
	InstanceLease time.Duration
	// StatementTimeout ends any statement of the console's pool that runs longer.
	StatementTimeout time.Duration
	// Worker settings for the job queue.
	RatePerSecond float64
	Concurrency   int
	// RetryBackoff is the first wait before a bulk run calls an account again
	// after a transient WeChat error; "operating too fast" waits six times as
	// long, and each further retry twice as long as the one before.
	RetryBackoff time.Duration
	// AlertLang is the language alerts are written in (ALERT_LANG, en or zh):
	// the console's default language, English, unless set.
	AlertLang string
}

// WeChat configures the third-party platform.
type WeChat struct {
	ComponentAppID     string
	ComponentAppSecret string
	Token              string
	AESKey             string
	AESKeyPrevious     string
	APIBaseURL         string
	// LoginPageBase hosts the authorization page (mp.weixin.qq.com in production).
	LoginPageBase string
}

// Secure reports whether the console is served over https.
func (c Config) Secure() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// Key derives a purpose-specific 32-byte key from the secret key, so the
// cookie-signing key and the encryption key are never the same bytes.
func (c Config) Key(purpose string) []byte {
	h := sha256.New()
	h.Write(c.SecretKey)
	h.Write([]byte("trafficmaster:" + purpose))
	return h.Sum(nil)
}

// Load reads and validates the configuration; each problem names its variable.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	required := func(name string) string {
		v := get(name, "")
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
		return v
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := get(name, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration like 30m, got %q", name, v))
			return def
		}
		return d
	}
	c := Config{
		Addr:            get("ADDR", ":8080"),
		DatabaseURL:     required("DATABASE_URL"),
		PublicURL:       strings.TrimRight(get("PUBLIC_URL", "http://localhost:8080"), "/"),
		SessionIdle:     dur("SESSION_IDLE_TIMEOUT", 30*time.Minute),
		SessionAbsolute: dur("SESSION_MAX_AGE", 12*time.Hour),
		TimeZone:        get("TIME_ZONE", "Asia/Shanghai"),
		SyncInterval:    dur("SYNC_INTERVAL", time.Hour),
		InstanceLease:   dur("INSTANCE_LEASE", 10*time.Second),
		// STATEMENT_TIMEOUT: the default is postgres.DefaultStatementTimeout.
		StatementTimeout: dur("STATEMENT_TIMEOUT", 10*time.Second),
		RetryBackoff:     dur("RETRY_BACKOFF", 5*time.Second),
		AlertLang:        get("ALERT_LANG", "en"),
		WeChat: WeChat{
			ComponentAppID:     required("WECHAT_COMPONENT_APPID"),
			ComponentAppSecret: required("WECHAT_COMPONENT_APPSECRET"),
			Token:              required("WECHAT_COMPONENT_TOKEN"),
			AESKey:             required("WECHAT_COMPONENT_AES_KEY"),
			AESKeyPrevious:     get("WECHAT_COMPONENT_AES_KEY_PREVIOUS", ""),
			APIBaseURL:         strings.TrimRight(get("WECHAT_API_BASE_URL", "https://api.weixin.qq.com"), "/"),
			LoginPageBase:      strings.TrimRight(get("WECHAT_LOGIN_PAGE_BASE_URL", "https://mp.weixin.qq.com"), "/"),
		},
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PUBLIC_URL: want an absolute http(s) URL, got %q", c.PublicURL))
	}
	for _, name := range []string{"WECHAT_API_BASE_URL", "WECHAT_LOGIN_PAGE_BASE_URL"} {
		v := get(name, "https://x")
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an absolute http(s) URL, got %q", name, v))
		}
	}
	if k := get("SECRET_KEY", ""); k == "" {
		errs = append(errs, errors.New("SECRET_KEY is required (32 random bytes, base64 or hex; make one with: openssl rand -base64 32)"))
	} else if key, err := DecodeKey(k); err != nil {
		errs = append(errs, fmt.Errorf("SECRET_KEY: %w", err))
	} else {
		c.SecretKey = key
	}
	for _, k := range []struct{ name, v string }{{"WECHAT_COMPONENT_AES_KEY", c.WeChat.AESKey}, {"WECHAT_COMPONENT_AES_KEY_PREVIOUS", c.WeChat.AESKeyPrevious}} {
		if k.v == "" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(k.v + "="); len(k.v) != 43 || err != nil || len(b) != 32 {
			errs = append(errs, fmt.Errorf("%s: want the 43-character EncodingAESKey from the platform settings", k.name))
		}
	}
	if c.AlertLang != "en" && c.AlertLang != "zh" {
		errs = append(errs, fmt.Errorf("ALERT_LANG: want en or zh, got %q", c.AlertLang))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("TIME_ZONE: unknown zone %q", c.TimeZone))
	}
	// TRUST_PROXY=true believed any X-Forwarded-For from any private or
	// loopback address; the proxies must now be named.
	switch v := get("TRUST_PROXY", "false"); v {
	case "false", "0":
	default:
		errs = append(errs, fmt.Errorf("TRUST_PROXY is replaced by TRUSTED_PROXIES: list your proxies' addresses as CIDRs, e.g. TRUSTED_PROXIES=127.0.0.1/32,10.1.2.0/24"))
	}
	if v := get("TRUSTED_PROXIES", ""); v != "" {
		p, err := ParseProxies(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
		}
		c.TrustedProxies = p
	}
	c.RatePerSecond = 5
	if v := get("RATE_PER_SECOND", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1000 {
			errs = append(errs, fmt.Errorf("RATE_PER_SECOND: want a number between 0 and 1000, got %q", v))
		} else {
			c.RatePerSecond = f
		}
	}
	c.Concurrency = 8
	if v := get("WORKER_CONCURRENCY", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			errs = append(errs, fmt.Errorf("WORKER_CONCURRENCY: want a whole number from 1 to 500, got %q", v))
		} else {
			c.Concurrency = n
		}
	}
	return c, errors.Join(errs...)
}

// ParseProxies reads a comma- or space-separated list of CIDRs or single addresses.
func ParseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("want CIDRs or addresses like 10.0.0.0/8 or 127.0.0.1, got %q", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// DecodeKey accepts a 32-byte key as base64 (std or URL) or hex.
func DecodeKey(s string) ([]byte, error) {
	for _, dec := range []func(string) ([]byte, error){base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("want 32 random bytes encoded as base64 or hex (openssl rand -base64 32)")
}
