package wechat_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

func TestCatalog(t *testing.T) {
	want := map[int]wechat.Class{
		0: wechat.ClassSuccess, 2021: wechat.ClassAlreadyDone, -202: wechat.ClassRetryable, -1: wechat.ClassRetryable,
		1700: wechat.ClassOurBug, 1701: wechat.ClassOurBug, 1735: wechat.ClassNeedsMerchant, 1736: wechat.ClassOurBug,
		1737: wechat.ClassRateLimited, 1807: wechat.ClassNeedsMerchant, 2009: wechat.ClassNeedsMerchant,
		2056: wechat.ClassProviderConfig, 2013: wechat.ClassNotYetEligible,
		40001: wechat.ClassToken, 40014: wechat.ClassToken, 42001: wechat.ClassToken, 45009: wechat.ClassRateLimited,
		48001: wechat.ClassProviderConfig, 61003: wechat.ClassNeedsMerchant, 61004: wechat.ClassProviderConfig,
		61005: wechat.ClassToken, 61006: wechat.ClassToken, 61007: wechat.ClassProviderConfig, 61023: wechat.ClassToken,
		1803: wechat.ClassOurBug, 2008: wechat.ClassRateLimited, 2035: wechat.ClassOurBug, 2061: wechat.ClassSuccess, 2067: wechat.ClassAlreadyDone, 2068: wechat.ClassRateLimited,
	}
	for code, class := range want {
		info := wechat.LookupCode(code)
		assert.True(t, info.Known, code)
		assert.Equal(t, class, info.Class, code)
		for _, lang := range []string{"en", "zh"} {
			assert.NotEmpty(t, info.MeaningIn(lang), code)
			assert.NotEmpty(t, info.ActionIn(lang), code)
		}
	}
	assert.Equal(t, "流量主已开通", wechat.LookupCode(2021).MeaningIn("zh"))
	assert.Equal(t, "无需再次操作", wechat.LookupCode(2021).ActionIn("zh"))
	assert.Equal(t, wechat.LookupCode(2021).MeaningIn("en"), wechat.LookupCode(2021).MeaningIn("fr"))

	u := wechat.LookupCode(123456)
	assert.False(t, u.Known)
	assert.Equal(t, wechat.ClassUnknown, u.Class)
	assert.NotEmpty(t, u.MeaningIn("zh"))
	assert.NotEmpty(t, u.ActionIn("en"))

	codes := wechat.Codes()
	assert.Len(t, codes, len(want))
	for i := 1; i < len(codes); i++ {
		assert.Less(t, codes[i-1].Code, codes[i].Code)
	}
}
