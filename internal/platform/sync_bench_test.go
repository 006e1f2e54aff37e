package platform_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// BenchmarkSync measures the hourly authorizer sync of a platform whose
// accounts are all stored already (nothing changed: the list is walked and
// compared, nothing is written), at TRAFFICMASTER_BENCH_SYNC accounts (a
// comma-separated list; 5000,20000 by default). It reports the peak of the
// Go heap above what it was before the sync, sampled every millisecond with
// the collector run at GOGC=10 so that the heap stays near what is live; the
// simulator, in this process too, holds its accounts before and after alike.
func BenchmarkSync(b *testing.B) {
	sizes := []int{5_000, 20_000}
	if v := benchSizes(); v != nil {
		sizes = v
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			e := setup(b)
			e.pushTicket(b)
			for i := range n {
				e.sim.AddAuthorizer(wechatsim.Authorizer{AppID: fmt.Sprintf("wx%016x", 0xbe0000+i), NickName: "acct" + strconv.Itoa(i), MiniProgram: true, PrincipalName: "p"})
			}
			ctx := context.Background()
			_, err := e.svc.Sync(ctx)
			require.NoError(b, err)
			defer debug.SetGCPercent(debug.SetGCPercent(10))
			var peak uint64
			for b.Loop() {
				runtime.GC()
				base := heapBytes()
				stop := make(chan struct{})
				var wg sync.WaitGroup
				var top uint64
				wg.Go(func() {
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							top = max(top, heapBytes())
						}
					}
				})
				res, err := e.svc.Sync(ctx)
				close(stop)
				wg.Wait()
				require.NoError(b, err)
				require.Equal(b, n, res.Listed)
				require.Zero(b, res.InfoFetched)
				if top > base {
					peak = max(peak, top-base)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peak)/float64(n), "peak-heap-B/account")
		})
	}
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapBytes() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

// benchSizes reads TRAFFICMASTER_BENCH_SYNC; nil when it is unset.
func benchSizes() []int {
	v := os.Getenv("TRAFFICMASTER_BENCH_SYNC")
	if v == "" {
		return nil
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			panic("TRAFFICMASTER_BENCH_SYNC: " + f + " is not a number of accounts")
		}
		out = append(out, n)
	}
	return out
}
