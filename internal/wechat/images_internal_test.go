package wechat

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The plain path gives what parsing gives, for every URL it takes.
func TestPlainImageURLAgreesWithParsing(t *testing.T) {
	t.Parallel()
	plain := 0
	for _, raw := range []string{
		"http://wx.qlogo.cn/mmopen/Q3auHgzwzM4fFbPZ8vVxYq1mP7eIicw/0", "https://thirdwx.qlogo.cn/mmopen/vi_32/x-y_z.~a/132",
		"http://wx.qlogo.cn", "http://wx.qlogo.cn/", "https://mmbiz.qlogo.cn//a//b", "http://mmbiz.qpic.cn/a/./../b",
		"http://WX.QLOGO.CN/a", "http://wx.qlogo.cn:80/a", "http://u@wx.qlogo.cn/a", "http://wx.qlogo.cn/a?b=c",
		"http://wx.qlogo.cn/a#b", "http://wx.qlogo.cn/a%20b", "http://wx.qlogo.cn/a b", "http://wx.qlogo.cn/花", "http://wx.qlogo.cn/a;b",
		"http://wx.qlogo.cn.evil.example/a", "http://evil.example/wx.qlogo.cn/a", "https:/wx.qlogo.cn/a", "http://wx.qlogo.cn\\a",
		"http://wx.qlogo.cn/a+b", "http://wx.qlogo.cn/a:b", "http://wx.qlogo.cn/a@b", "javascript:alert(1)", "",
	} {
		want, wantOK := parsedImageURL(raw)
		got, ok := plainImageURL(raw)
		if ok {
			plain++
			require.True(t, wantOK, raw)
			require.Equal(t, want, got, raw)
		}
		got, ok = ImageURL(raw)
		require.Equal(t, wantOK, ok, raw)
		require.Equal(t, want, got, raw)
	}
	require.Equal(t, 6, plain)
}

// FuzzPlainImageURL: whatever the plain path takes, parsing gives the same.
func FuzzPlainImageURL(f *testing.F) {
	for _, s := range []string{"http://wx.qlogo.cn/mmopen/a/0", "https://thirdwx.qlogo.cn/", "http://mmbiz.qpic.cn/a/../b", "http://wx.qlogo.cn"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, ok := plainImageURL(raw); ok {
			want, wantOK := parsedImageURL(raw)
			if !wantOK || got != want {
				t.Fatalf("%q: plain %q, parsed %q %v", raw, got, want, wantOK)
			}
		}
	})
}
