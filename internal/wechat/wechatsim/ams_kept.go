package wechatsim

import "time"

// The provider-wide replies (get_agency_ads_detail, get_agency_settled_revenue)
// sum every opened Mini Program. A client reads such a reply a page at a
// time, so the simulator keeps each sum between pages instead of summing a
// provider of 100,000 accounts again for every page of 200 rows, with Sim.mu
// held. A kept sum is used while nothing it depends on has changed: the
// accounts, which are open and since when, their confirmed share ratios
// (dataGen counts these changes), and the hour of the clock, the finest step
// in which revisionPercent moves.

// keptKey names one kept sum.
type keptKey struct {
	action   string
	from, to time.Time
	slot     string
}

type keptSum struct {
	gen  uint64
	hour int64
	v    any
}

// maxKept bounds the sums kept; past it they are all dropped. A client reads
// one range's pages in a row, so a few are enough; at 100,000 accounts one
// day's detail rows take some 30 MB.
const maxKept = 8

// dataChanged records a change that the kept sums depend on. s.mu must be held.
func (s *Sim) dataChanged() { s.dataGen++ }

// keptOr returns the sum named k, computing it when none is kept or what it
// depends on has changed since. s.mu must be held.
func keptOr[T any](s *Sim, k keptKey, compute func() T) T {
	hour := s.cfg.Now().Unix() / 3600
	if e, ok := s.keptSums[k]; ok && e.gen == s.dataGen && e.hour == hour {
		return e.v.(T)
	}
	if s.keptSums == nil || len(s.keptSums) >= maxKept {
		s.keptSums = map[keptKey]keptSum{}
	}
	v := compute()
	s.keptSums[k] = keptSum{gen: s.dataGen, hour: hour, v: v}
	return v
}
