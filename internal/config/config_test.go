package config_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/config"
)

func valid() map[string]string {
	return map[string]string{
		"DATABASE_URL": "postgres://localhost/tm", "SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"WECHAT_COMPONENT_APPID": "wx1", "WECHAT_COMPONENT_APPSECRET": "s", "WECHAT_COMPONENT_TOKEN": "t",
		"WECHAT_COMPONENT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
	}
}

func TestLoadDefaultsAndDerivedKeys(t *testing.T) {
	t.Parallel()
	v := valid()
	c, err := config.Load(func(k string) string { return v[k] })
	require.NoError(t, err)
	require.Equal(t, ":8080", c.Addr)
	require.Equal(t, "https://api.weixin.qq.com", c.WeChat.APIBaseURL)
	require.Equal(t, 30*time.Minute, c.SessionIdle)
	require.Equal(t, "Asia/Shanghai", c.TimeZone)
	require.Equal(t, 5*time.Second, c.RetryBackoff)
	require.False(t, c.Secure())
	require.Len(t, c.Key("a"), 32)
	require.NotEqual(t, c.Key("a"), c.Key("b"), "each purpose gets its own key")
	require.NotEqual(t, c.SecretKey, c.Key("a"))
}

func TestLoadNamesEveryBadVariable(t *testing.T) {
	t.Parallel()
	v := valid()
	v["SESSION_IDLE_TIMEOUT"] = "soon"
	v["TIME_ZONE"] = "Mars/Olympus"
	v["RATE_PER_SECOND"] = "-1"
	v["WECHAT_COMPONENT_AES_KEY_PREVIOUS"] = "abc"
	v["PUBLIC_URL"] = "console.example.com"
	v["RETRY_BACKOFF"] = "0s"
	_, err := config.Load(func(k string) string { return v[k] })
	for _, name := range []string{"SESSION_IDLE_TIMEOUT", "TIME_ZONE", "RATE_PER_SECOND", "WECHAT_COMPONENT_AES_KEY_PREVIOUS", "PUBLIC_URL", "RETRY_BACKOFF"} {
		require.ErrorContains(t, err, name)
	}
}

func TestDecodeKeyAcceptsBase64AndHex(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "3031323334353637383961626364656630313233343536373839616263646566"} {
		b, err := config.DecodeKey(k)
		require.NoError(t, err)
		require.Equal(t, "0123456789abcdef0123456789abcdef", string(b))
	}
	_, err := config.DecodeKey("c2hvcnQ=")
	require.Error(t, err)
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	v := valid()
	c, err := config.Load(func(k string) string { return v[k] })
	require.NoError(t, err)
	require.Empty(t, c.TrustedProxies, "no proxy is trusted unless named")
	v["TRUSTED_PROXIES"] = "127.0.0.1, 10.1.2.0/24 ::1"
	c, err = config.Load(func(k string) string { return v[k] })
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.2.0/24"), netip.MustParsePrefix("::1/128")}, c.TrustedProxies)
	v["TRUSTED_PROXIES"] = "10.0.0.0/33"
	_, err = config.Load(func(k string) string { return v[k] })
	require.ErrorContains(t, err, "TRUSTED_PROXIES")
	delete(v, "TRUSTED_PROXIES")
	v["TRUST_PROXY"] = "true"
	_, err = config.Load(func(k string) string { return v[k] })
	require.ErrorContains(t, err, "TRUST_PROXY is replaced by TRUSTED_PROXIES", "a blanket trust is refused")
}
