package config_test

import (
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
	_, err := config.Load(func(k string) string { return v[k] })
	for _, name := range []string{"SESSION_IDLE_TIMEOUT", "TIME_ZONE", "RATE_PER_SECOND", "WECHAT_COMPONENT_AES_KEY_PREVIOUS", "PUBLIC_URL"} {
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

func TestTrustProxy(t *testing.T) {
	t.Parallel()
	v := valid()
	c, err := config.Load(func(k string) string { return v[k] })
	require.NoError(t, err)
	require.False(t, c.TrustProxy, "off unless asked")
	v["TRUST_PROXY"] = "true"
	c, err = config.Load(func(k string) string { return v[k] })
	require.NoError(t, err)
	require.True(t, c.TrustProxy)
	v["TRUST_PROXY"] = "yes please"
	_, err = config.Load(func(k string) string { return v[k] })
	require.ErrorContains(t, err, "TRUST_PROXY")
}
