package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
)

func TestShownRate(t *testing.T) {
	t.Parallel()
	run := func(status jobs.RunStatus, measured float64) *jobs.Run {
		return &jobs.Run{Status: status, RatePerSecond: measured, ConfiguredRate: 10}
	}
	require.Zero(t, run(jobs.RunPaused, 8).ShownRate(), "a paused run has no rate")
	require.Equal(t, 8.0, run(jobs.RunRunning, 8).ShownRate())
	require.Equal(t, 10.0, run(jobs.RunRunning, 10.6).ShownRate(), "timing noise is not a breach of the limit")
	require.Equal(t, 20.0, run(jobs.RunFinished, 20).ShownRate(), "calls that really came faster are shown")
}
