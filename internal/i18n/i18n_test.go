package i18n_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/i18n"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]i18n.Lang{
		"":                           i18n.EN,
		"zh-CN,zh;q=0.9,en;q=0.8":    i18n.ZH,
		"en-US,en;q=0.9,zh-CN;q=0.8": i18n.EN,
		"fr-FR, zh;q=0.5":            i18n.ZH,
		"de":                         i18n.EN,
		"en;q=0.2, zh-TW;q=0.9":      i18n.ZH,
	} {
		require.Equal(t, want, i18n.Negotiate(header), header)
	}
}

func TestTranslateFallsBackToEnglish(t *testing.T) {
	t.Parallel()
	require.Equal(t, "登录", i18n.T(i18n.ZH, "Sign in"))
	require.Equal(t, "Sign in", i18n.T(i18n.EN, "Sign in"))
	require.Equal(t, "No such text %d", i18n.T(i18n.ZH, "No such text %d"))
	require.Equal(t, "登录失败次数过多，请 15 分钟后再试。", i18n.T(i18n.ZH, "Too many failed sign-in attempts. Wait %d minutes and try again.", 15))
}

// Every literal the views translate must have a Chinese entry, so a page
// never shows English in the middle of Chinese.
func TestEveryViewStringHasChinese(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../views/*.templ")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	lit := regexp.MustCompile(`\bT\("((?:[^"\\]|\\.)+)"`)
	missing := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !i18n.HasZH(m[1]) {
				missing[filepath.Base(f)+": "+m[1]] = true
			}
		}
	}
	var list []string
	for k := range missing {
		list = append(list, k)
	}
	sort.Strings(list)
	require.Empty(t, list, "add these to internal/i18n/messages_*.go")
}
