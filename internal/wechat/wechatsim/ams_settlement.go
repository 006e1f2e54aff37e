package wechatsim

import (
	"fmt"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// interval is one half-month settlement period.
type interval struct {
	first, last time.Time
	order       int // 1 first half, 2 second half
}

// intervals lists the half months overlapping [from, to] that have begun by today, newest first.
func intervals(from, to, today time.Time) []interval {
	var out []interval
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, chinaTime)
	for !m.After(to) {
		mid := m.AddDate(0, 0, 15)
		for _, iv := range []interval{{m, mid.AddDate(0, 0, -1), 1}, {mid, m.AddDate(0, 1, -1), 2}} {
			if !iv.last.Before(from) && !iv.first.After(to) && !iv.first.After(today) {
				out = append([]interval{iv}, out...)
			}
		}
		m = m.AddDate(0, 1, 0)
	}
	return out
}

// settStatus moves from settling to paid as the interval ages.
func settStatus(iv interval, today time.Time) int {
	if !today.After(iv.last) {
		return wechat.SettSettling
	}
	days := int(today.Sub(iv.last).Hours() / 24)
	switch {
	case days <= 5:
		return wechat.SettSettled
	case days <= 10:
		return wechat.SettSettled3
	case days <= 20:
		return wechat.SettPaying
	}
	return wechat.SettPaid
}

// settledInterval is one interval's amounts in fen.
type settledInterval struct {
	iv               interval
	status           int
	revenue, penalty int64
	slots            map[string]int64 // settled revenue per slot
}

// settle computes the intervals of [from, to] for appID, or for the
// provider's own share when appID is the component appid. s.mu must be held.
func (s *Sim) settle(appID string, from, to time.Time) []settledInterval {
	now := s.cfg.Now().In(chinaTime)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	provider := appID == s.cfg.ComponentAppID
	var out []settledInterval
	for _, iv := range intervals(from, to, today) {
		si := settledInterval{iv: iv, status: settStatus(iv, today), slots: map[string]int64{}}
		penaltyPct := int64(0)
		if seed(appID, iv.first.Format("200601"), fmt.Sprint(iv.order), "penalty")%6 == 0 {
			penaltyPct = 3
		}
		var perSlot map[string]int64
		if provider {
			perSlot = keptOr(s, keptKey{wechat.ActionGetAgencySettledRevenue, iv.first, iv.last, ""}, func() map[string]int64 {
				sums := map[string]int64{}
				for _, id := range s.openedMiniPrograms() {
					for _, d := range s.accountDays(id, iv.first, iv.last, "") {
						sums[d.slot] += d.f.agency
					}
				}
				return sums
			})
		} else {
			perSlot = map[string]int64{}
			for _, d := range s.accountDays(appID, iv.first, iv.last, "") {
				perSlot[d.slot] += d.f.publisher
			}
		}
		for _, slot := range wechat.Slots() {
			rev, ok := perSlot[slot]
			if !ok {
				continue
			}
			pen := rev * penaltyPct / 100
			si.revenue += rev
			si.penalty += pen
			si.slots[slot] = rev - pen
		}
		out = append(out, si)
	}
	return out
}

// SettlementTotals are what a settlement reply's revenue_all, penalty_all
// and settled_revenue_all carry, in fen.
type SettlementTotals struct {
	Revenue, Penalty, Settled int64
	Intervals                 int
}

// SettlementTotals sums appID's settlement over [start, end]; with the
// component appid, the provider's own (get_agency_settled_revenue).
func (s *Sim) SettlementTotals(appID, start, end string) SettlementTotals {
	from, to, ok := parseRange(start, end)
	if !ok {
		return SettlementTotals{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var t SettlementTotals
	for _, si := range s.settle(appID, from, to) {
		t.Revenue += si.revenue
		t.Penalty += si.penalty
		t.Intervals++
	}
	t.Settled = t.Revenue - t.Penalty
	return t
}

// settlement answers agency_get_settlement and get_agency_settled_revenue.
func (s *Sim) settlement(appID string, body map[string]any) (int, map[string]any) {
	q, ok := readDataQuery(body, 0)
	if !ok {
		return 1700, nil
	}
	if code := s.failedDay(appID, q.from, q.to); code != 0 {
		return code, nil
	}
	all := s.settle(appID, q.from, q.to)
	var rev, pen int64
	for _, si := range all {
		rev += si.revenue
		pen += si.penalty
	}
	lo, hi := page(len(all), q.page, q.size)
	list := []any{}
	for _, si := range all[lo:hi] {
		slots := []any{}
		for _, slot := range wechat.Slots() {
			if v, ok := si.slots[slot]; ok {
				slots = append(slots, map[string]any{"slot_id": slot, "slot_settled_revenue": v})
			}
		}
		settNo, mails := "", "0"
		if si.status != wechat.SettSettling {
			settNo = fmt.Sprintf("%s%d%08x", si.iv.first.Format("200601"), si.iv.order, seed(appID, si.iv.first.Format(time.DateOnly))&0xffffffff)
		}
		if si.status == wechat.SettPaid {
			mails = "1"
		}
		list = append(list, map[string]any{
			"date":            si.iv.last.Format(time.DateOnly),
			"zone":            fmt.Sprintf("%d年%d月%d日-%d日", si.iv.first.Year(), int(si.iv.first.Month()), si.iv.first.Day(), si.iv.last.Day()),
			"month":           si.iv.first.Format("200601"),
			"order":           si.iv.order,
			"sett_status":     si.status,
			"settled_revenue": si.revenue - si.penalty,
			"sett_no":         settNo,
			"mail_send_cnt":   mails,
			"slot_revenue":    slots,
		})
	}
	return 0, map[string]any{
		"revenue_all": rev, "penalty_all": pen, "settled_revenue_all": rev - pen,
		"settlement_list": list, "total_num": len(all),
	}
}
