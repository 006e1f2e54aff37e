package jobs_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkBulkRun measures a run against the zero-delay simulator: calls
// per second as a share of the configured rate, and the peak heap in use.
// BULK_N accounts (2000), BULK_RATE calls/s (200), BULK_CONC workers (16).
func BenchmarkBulkRun(b *testing.B) {
	n, rate, conc := envInt("BULK_N", 2000), envInt("BULK_RATE", 200), envInt("BULK_CONC", 16)
	for range b.N {
		e := setup(b, n)
		c := e.worker(float64(rate), conc)
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		run, err := c.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "bench")
		require.NoError(b, err)
		e.start(c)
		e.waitRun(c, run.ID, finished, 10*time.Minute)
		close(stop)
		log := e.sim.CallLog()
		require.Len(b, log, n)
		secs := log[len(log)-1].At.Sub(log[0].At).Seconds()
		got := float64(n-1) / secs
		b.ReportMetric(got, "calls/s")
		b.ReportMetric(got/float64(rate)*100, "%rate")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peakheapMiB")
		_ = jobs.RunFinished
	}
}
