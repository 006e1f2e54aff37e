// Package i18n translates the console's interface into English and Simplified Chinese.
package i18n

import (
	"fmt"
	"strings"
	"sync"
)

// Lang is a supported interface language.
type Lang string

// The supported languages.
const (
	EN Lang = "en"
	ZH Lang = "zh"
)

// Parse returns the language named by s, if supported.
func Parse(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en":
		return EN, true
	case "zh", "zh-cn", "zh-hans":
		return ZH, true
	}
	return EN, false
}

// Negotiate picks the language from an Accept-Language header, by quality order.
func Negotiate(header string) Lang {
	best, bestQ := EN, -1.0
	for i, part := range strings.Split(header, ",") {
		tag, q := strings.TrimSpace(part), 1.0
		if semi := strings.Index(tag, ";"); semi >= 0 {
			// A malformed quality counts as 1, as if it were absent.
			if _, err := fmt.Sscanf(strings.TrimSpace(tag[semi+1:]), "q=%g", &q); err != nil {
				q = 1
			}
			tag = strings.TrimSpace(tag[:semi])
		}
		tag = strings.ToLower(tag)
		var l Lang
		switch {
		case strings.HasPrefix(tag, "zh"):
			l = ZH
		case strings.HasPrefix(tag, "en"):
			l = EN
		default:
			continue
		}
		// Earlier entries win ties, as browsers list preferences first.
		if q > bestQ || (q == bestQ && i == 0) {
			best, bestQ = l, q
		}
	}
	return best
}

// T translates key, which is the English text itself, into lang and formats
// args. A missing Chinese entry falls back to the English text: visible, harmless.
func T(lang Lang, key string, args ...any) string {
	s := key
	if lang == ZH {
		if z, ok := zh()[key]; ok {
			s = z
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Each feature keeps its Chinese messages in its own file; they merge once.
var zhTables = []map[string]string{zhFoundation, zhWeChat, zhConsole, zhJobs, zhAccounts, zhVocabulary, zhReliability, zhHardening, zhBrowser, zhRevenue, zhAMS, zhAMSBulk, zhAdPanels, zhAutopen, zhRevenueShow, zhAdUnits, zhAlerts, zhScale, zhRevdash, zhStateRollup}

var zh = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, t := range zhTables {
		for k, v := range t {
			m[k] = v
		}
	}
	return m
})

// HasZH reports whether key has a Chinese translation (tests use it to find gaps).
func HasZH(key string) bool { _, ok := zh()[key]; return ok }
