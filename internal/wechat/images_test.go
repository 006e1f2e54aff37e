package wechat_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

func TestImageURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://wx.qlogo.cn/mmopen/abc/0":               "https://wx.qlogo.cn/mmopen/abc/0",
		"https://thirdwx.qlogo.cn/mmopen/vi_32/x/132":   "https://thirdwx.qlogo.cn/mmopen/vi_32/x/132",
		"http://mmbiz.qpic.cn/mmbiz_png/x/0?wx_fmt=png": "https://mmbiz.qpic.cn/mmbiz_png/x/0?wx_fmt=png",
		" HTTP://WX.QLOGO.CN/mmopen/a/0 ":               "https://wx.qlogo.cn/mmopen/a/0", //nolint:gocritic // mapKey: the spaces are the input under test
		"":                                              "",
		"https://evil.example/pixel.gif":                "",
		"https://wx.qlogo.cn.evil.example/":             "",
		"https://evil.example/?wx.qlogo.cn":             "",
		"https://user@wx.qlogo.cn/a":                    "",
		"https://wx.qlogo.cn:8443/a":                    "",
		"javascript:alert(1)":                           "",
		"data:image/png;base64,AAAA":                    "",
		"//wx.qlogo.cn/mmopen/a/0":                      "",
		"ftp://wx.qlogo.cn/a":                           "",
	} {
		got, ok := wechat.ImageURL(raw)
		require.Equal(t, want, got, raw)
		require.Equal(t, want != "", ok, raw)
	}
}
