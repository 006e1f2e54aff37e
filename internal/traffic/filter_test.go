package traffic_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	f, err := traffic.ParseFilter(url.Values{"q": {"  花间 "}, "state": {"needs_merchant"}, "status": {"normal"},
		"sort": {"recent"}, "after": {"c1"}, "before": {"c2"}, "pos": {"51"}})
	require.NoError(t, err)
	require.Equal(t, traffic.Filter{Q: "花间", State: traffic.StateNeedsMerchant, Status: traffic.StatusNormal,
		Sort: traffic.SortRecent, After: "c1", Before: "c2", Pos: 51}, f)
	require.Equal(t, traffic.Filter{Q: "花间", State: traffic.StateNeedsMerchant, Status: traffic.StatusNormal}, f.Selection())

	f, err = traffic.ParseFilter(url.Values{})
	require.NoError(t, err)
	require.Equal(t, traffic.Filter{}, f)

	// Unknown values are left out and the first is reported with its field.
	for field, v := range map[string]url.Values{
		"state":  {"state": {"forged"}, "status": {"normal"}},
		"status": {"status": {"deleted"}, "state": {"open"}},
		"sort":   {"sort": {"random"}, "q": {"x"}},
		"pos":    {"pos": {"ten"}},
	} {
		f, err := traffic.ParseFilter(v)
		require.Error(t, err, field)
		require.Equal(t, core.EINVALID, core.ErrorCode(err), field)
		var ce *core.Error
		require.ErrorAs(t, err, &ce)
		require.Equal(t, field, ce.Field, field)
		switch field {
		case "state":
			require.Equal(t, traffic.Filter{Status: traffic.StatusNormal}, f)
		case "status":
			require.Equal(t, traffic.Filter{State: traffic.StateOpen}, f)
		case "sort":
			require.Equal(t, traffic.Filter{Q: "x"}, f)
		}
	}
}

func TestFilterDescribe(t *testing.T) {
	t.Parallel()
	require.Equal(t, "", traffic.Filter{Sort: "recent", Limit: 50}.Describe(), "paging is not part of what a run takes")
	require.Equal(t, "q=%E8%8A%B1+%E9%97%B4&state=never&status=abnormal",
		traffic.Filter{Q: "花 间", State: traffic.StateNever, Status: traffic.StatusAbnormal, After: "x"}.Describe())
}
