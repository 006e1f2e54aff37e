package jobs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// RETRY_BACKOFF scales every wait: the first after a transient error, six
// times that after "operating too fast", doubling per try, ±50%.
func TestBackoffFromScalesWithTheSetting(t *testing.T) {
	t.Parallel()
	for _, base := range []time.Duration{50 * time.Millisecond, jobs.DefaultRetryWait} {
		b := jobs.BackoffFrom(base)
		for range 50 {
			for tries := 1; tries <= 8; tries++ {
				for o, first := range map[traffic.Outcome]time.Duration{traffic.OutcomeRetryable: base, traffic.OutcomeRateLimited: 6 * base} {
					d := min(first<<min(tries-1, 5), 180*base)
					got := b(tries, o)
					require.GreaterOrEqual(t, got, d/2, "%s try %d base %s", o, tries, base)
					require.Less(t, got, d+d/2, "%s try %d base %s", o, tries, base)
				}
			}
		}
	}
	require.Equal(t, 15*time.Minute, 180*jobs.DefaultRetryWait)
	d := jobs.BackoffFrom(0)(1, traffic.OutcomeRateLimited)
	require.True(t, d >= 15*time.Second && d < 45*time.Second, "zero is the default: %s", d)
}
