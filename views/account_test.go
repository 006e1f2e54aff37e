package views

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/i18n"
)

func TestNumGroupsThousandsInBothLanguages(t *testing.T) {
	t.Parallel()
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		b := Base{Lang: lang}
		for n, want := range map[int]string{0: "0", 51: "51", 999: "999", 1000: "1,000", 6064: "6,064", 100000: "100,000", 1234567: "1,234,567", -4321: "-4,321"} {
			require.Equal(t, want, b.Num(n))
		}
	}
	require.Equal(t, "第 51–100 个，共 6,064 个", Base{Lang: i18n.ZH}.T("%s–%s of %s", "51", "100", Base{}.Num(6064)))
	require.Equal(t, "51–100 of 6,064", Base{Lang: i18n.EN}.T("%s–%s of %s", "51", "100", Base{}.Num(6064)))
}
