package wechatsim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// seed hashes its parts into a well-mixed number: the simulator's only source
// of variety, so every figure is the same for the same appid, day and slot.
func seed(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

type slotParams struct {
	weight           int64 // percent of the account's exposures
	ecpmLo, ecpmHi   int64 // fen per thousand exposures
	width, height    int
	bit              uint // which seed bit activates the slot (banner: always)
	name             string
	ctrLo, ctrPerMil int64
}

var slotTable = map[string]slotParams{
	wechat.SlotBanner:       {30, 600, 1600, 375, 130, 0, "首页横幅", 5, 20},
	wechat.SlotRewardVideo:  {25, 2000, 6000, 0, 0, 10, "激励视频", 10, 25},
	wechat.SlotInterstitial: {15, 1000, 3000, 0, 0, 11, "插屏广告", 8, 20},
	wechat.SlotVideoFeeds:   {8, 1000, 2000, 375, 210, 12, "视频信息流", 5, 15},
	wechat.SlotVideoBegin:   {6, 1500, 3000, 375, 210, 13, "视频贴片", 5, 10},
	wechat.SlotBox:          {5, 300, 800, 375, 100, 14, "格子广告", 5, 15},
	wechat.SlotTemplate:     {20, 500, 1500, 375, 300, 15, "原生模板", 6, 20},
	wechat.SlotCover:        {10, 2000, 4000, 0, 0, 16, "开屏", 5, 12},
}

// profile is an account's standing character: how busy it is and which slots it uses.
type profile struct {
	none  bool // no ad data at all, as some opened accounts have
	base  int64
	slots []string // in wechat.Slots() order
}

func profileOf(appID string) profile {
	h := seed(appID, "profile")
	p := profile{none: h%5 == 0, base: 3000 + int64((h>>8)%40000)}
	if p.none {
		return p
	}
	for _, slot := range wechat.Slots() {
		sp := slotTable[slot]
		if sp.bit == 0 || h>>sp.bit&1 == 1 {
			p.slots = append(p.slots, slot)
		}
	}
	return p
}

func seededUnit(appID, slot string) *simUnit {
	sp := slotTable[slot]
	u := &simUnit{
		id:   fmt.Sprintf("adunit-%016x", seed(appID, slot, "unit")),
		name: sp.name, slot: slot, on: true, seeded: true, width: sp.width, height: sp.height,
	}
	switch slot {
	case wechat.SlotRewardVideo:
		u.durMin, u.durMax = 6, 30
	case wechat.SlotTemplate:
		u.tmplType = 1
	}
	return u
}

// figures are one slot's counts and money on one day.
type figures struct {
	req, exposure, clicks     int64
	income, publisher, agency int64
	exposureUV, openUV        int64
}

func (f figures) add(o figures) figures {
	f.req += o.req
	f.exposure += o.exposure
	f.clicks += o.clicks
	f.income += o.income
	f.publisher += o.publisher
	f.agency += o.agency
	f.exposureUV += o.exposureUV
	f.openUV += o.openUV
	return f
}

// weekdayPercent is the weekly rhythm: weekends busier, Mondays quieter.
var weekdayPercent = [7]int64{125, 90, 95, 100, 100, 110, 130}

// revisionPercent is how much of day's final figures are known at now:
// nothing for today, yesterday's from 06:00 growing until noon, then final.
func revisionPercent(day, now time.Time) int64 {
	now = now.In(chinaTime)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	switch {
	case !day.Before(today):
		return 0
	case day.Before(today.AddDate(0, 0, -1)):
		return 100
	case now.Hour() < 6:
		return 0
	case now.Hour() >= 12:
		return 100
	}
	return 70 + 5*int64(now.Hour()-6)
}

// dayFigures computes one slot of one account on one day. ratio is the
// provider's share in effect that day.
func dayFigures(appID string, p profile, day time.Time, slot string, ratio int, pct int64) figures {
	if p.none || pct == 0 || !slices.Contains(p.slots, slot) {
		return figures{}
	}
	sp := slotTable[slot]
	date := day.Format(time.DateOnly)
	n := seed(appID, date, slot)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	noise := int64(b[0]%31) - 15
	exposure := p.base * sp.weight / 100 * weekdayPercent[day.Weekday()] / 100 * (100 + noise) / 100 * pct / 100
	ecpmSlot := sp.ecpmLo + int64(seed(appID, slot, "ecpm")%uint64(sp.ecpmHi-sp.ecpmLo+1))
	ecpm := ecpmSlot * (95 + int64(b[1]%11)) / 100
	f := figures{
		exposure: exposure,
		req:      exposure * (105 + int64(b[2]%25)) / 100,
		clicks:   exposure * (sp.ctrLo + int64(b[3])%sp.ctrPerMil) / 1000,
		income:   exposure * ecpm / 1000,
	}
	f.agency = f.income * int64(ratio) / 100
	f.publisher = f.income - f.agency
	f.exposureUV = exposure / 3
	f.openUV = f.req / 2
	return f
}

// slotDay is one slot on one day of one account.
type slotDay struct {
	day  time.Time
	slot string
	f    figures
}

// accountDays lists appID's figures per day (newest first) and slot, for
// days in [from, to] with any exposure. s.mu must be held.
func (s *Sim) accountDays(appID string, from, to time.Time, slot string) []slotDay {
	if !s.opened[appID] {
		return nil
	}
	p := profileOf(appID)
	if p.none {
		return nil
	}
	acc := s.account(appID)
	now := s.cfg.Now()
	if at, ok := s.ams.openedAt[appID]; ok {
		at = at.In(chinaTime)
		if first := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, chinaTime); from.Before(first) {
			from = first // no ads ran before the traffic master was open
		}
	}
	var out []slotDay
	for day := to; !day.Before(from); day = day.AddDate(0, 0, -1) {
		pct := revisionPercent(day, now)
		if pct == 0 {
			continue
		}
		ratio := s.ratioOn(acc, day.Format(time.DateOnly))
		for _, sl := range p.slots {
			if slot != "" && sl != slot {
				continue
			}
			if f := dayFigures(appID, p, day, sl, ratio, pct); f.exposure > 0 {
				out = append(out, slotDay{day, sl, f})
			}
		}
	}
	return out
}

// openedMiniPrograms lists the accounts whose data the provider sees, in authorization order. s.mu must be held.
func (s *Sim) openedMiniPrograms() []string {
	var out []string
	for _, id := range s.order {
		if a := s.authorizers[id]; a != nil && a.MiniProgram && s.opened[id] {
			out = append(out, id)
		}
	}
	return out
}

// AdTotals are summed figures, money in fen, as the simulator itself computes
// them: tests compare what a client read against these, to the fen.
type AdTotals struct {
	ReqSucc, Exposure, Clicks             int64
	Income, PublisherIncome, AgencyIncome int64
}

func totalsOf(f figures) AdTotals {
	return AdTotals{f.req, f.exposure, f.clicks, f.income, f.publisher, f.agency}
}

func parseDay(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, chinaTime)
}

func parseRange(start, end string) (time.Time, time.Time, bool) {
	from, err1 := parseDay(start)
	to, err2 := parseDay(end)
	if err1 != nil || err2 != nil || to.Before(from) {
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}

// SlotTotals sums appID's figures over [start, end] (yyyy-mm-dd) for slot
// ("" for every slot): what agency_get_adpos_genenral's summary reports.
func (s *Sim) SlotTotals(appID, start, end, slot string) AdTotals {
	from, to, ok := parseRange(start, end)
	if !ok {
		return AdTotals{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var f figures
	for _, d := range s.accountDays(appID, from, to, slot) {
		f = f.add(d.f)
	}
	return totalsOf(f)
}

// UnitTotals sums one ad unit's figures over [start, end].
func (s *Sim) UnitTotals(appID, adUnitID, start, end string) AdTotals {
	from, to, ok := parseRange(start, end)
	if !ok {
		return AdTotals{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unitByID(s.account(appID), adUnitID)
	if u == nil || !u.seeded {
		return AdTotals{}
	}
	var f figures
	for _, d := range s.accountDays(appID, from, to, u.slot) {
		f = f.add(d.f)
	}
	return totalsOf(f)
}

// ProviderTotals sums every opened Mini Program's figures over [start, end]
// for slot ("" for all): what get_agency_ads_stat's summary reports.
func (s *Sim) ProviderTotals(start, end, slot string) AdTotals {
	from, to, ok := parseRange(start, end)
	if !ok {
		return AdTotals{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var f figures
	for _, id := range s.openedMiniPrograms() {
		for _, d := range s.accountDays(id, from, to, slot) {
			f = f.add(d.f)
		}
	}
	return totalsOf(f)
}

// metrics writes figures as WeChat's metric fields; publisherOnly is the per
// Mini Program reading, where the income is the Mini Program's own.
func metrics(f figures, publisherOnly bool) map[string]any {
	m := map[string]any{
		"req_succ_count": f.req,
		"exposure_count": f.exposure,
		"exposure_rate":  decimal(f.exposure, f.req, 4),
		"click_count":    f.clicks,
		"click_rate":     decimal(f.clicks, f.exposure, 4),
		"ecpm":           decimal(f.income*1000, f.exposure, 2),
	}
	if publisherOnly {
		m["publisher_income"] = f.publisher
		return m
	}
	m["income"] = f.income
	m["publisher_income"] = f.publisher
	m["agency_income"] = f.agency
	m["exposure_uv"] = f.exposureUV
	m["open_uv"] = f.openUV
	return m
}

// decimal formats a/b as a decimal; it is not money, so a float is fine.
func decimal(a, b int64, places int) floatText {
	if b == 0 {
		return floatText(fmt.Sprintf("%.*f", places, 0.0))
	}
	return floatText(fmt.Sprintf("%.*f", places, float64(a)/float64(b)))
}

// floatText marshals as a JSON number written exactly as formatted.
type floatText string

func (f floatText) MarshalJSON() ([]byte, error) { return []byte(f), nil }

// page returns the bounds of page (from 1) of size over n items.
func page(n, pg, size int) (int, int) {
	lo := (pg - 1) * size
	if lo > n {
		lo = n
	}
	hi := lo + size
	if hi > n {
		hi = n
	}
	return lo, hi
}

// dataQuery reads the paging and dates every data action takes.
type dataQuery struct {
	page, size int
	from, to   time.Time
	slot       string
}

func readDataQuery(body map[string]any, maxSize int) (dataQuery, bool) {
	pg, ok1 := num(body, "page", 1)
	size, ok2 := num(body, "page_size", 10)
	from, to, ok3 := parseRange(str(body, "start_date"), str(body, "end_date"))
	if !ok1 || !ok2 || !ok3 || pg < 1 || size < 1 || (maxSize > 0 && size > maxSize) {
		return dataQuery{}, false
	}
	slot := str(body, "ad_slot")
	if _, known := slotTable[slot]; slot != "" && !known {
		return dataQuery{}, false
	}
	return dataQuery{pg, size, from, to, slot}, true
}

// adposGeneral answers agency_get_adpos_genenral: per slot per day, newest first.
func (s *Sim) adposGeneral(appID string, body map[string]any) (int, map[string]any) {
	q, ok := readDataQuery(body, 0)
	if !ok {
		return 1700, nil
	}
	if code := s.failedDay(appID, q.from, q.to); code != 0 {
		return code, nil
	}
	days := s.accountDays(appID, q.from, q.to, q.slot)
	var sum figures
	for _, d := range days {
		sum = sum.add(d.f)
	}
	lo, hi := page(len(days), q.page, q.size)
	list := []any{}
	for _, d := range days[lo:hi] {
		m := metrics(d.f, true)
		m["slot_id"] = d.slot
		m["ad_slot"] = d.slot
		m["date"] = d.day.Format(time.DateOnly)
		list = append(list, m)
	}
	return 0, map[string]any{"list": list, "summary": metrics(sum, true), "total_num": len(days)}
}

// adunitGeneral answers agency_get_adunit_general: per unit, its days newest first.
func (s *Sim) adunitGeneral(appID string, body map[string]any) (int, map[string]any) {
	q, ok := readDataQuery(body, 0)
	if !ok {
		return 1700, nil
	}
	if code := s.failedDay(appID, q.from, q.to); code != 0 {
		return code, nil
	}
	want := str(body, "ad_unit_id")
	var units []any
	for _, u := range s.account(appID).units {
		if !u.seeded || (want != "" && u.id != want) || (q.slot != "" && u.slot != q.slot) {
			continue
		}
		days := s.accountDays(appID, q.from, q.to, u.slot)
		if len(days) == 0 {
			continue
		}
		items := []any{}
		for _, d := range days {
			m := metrics(d.f, true)
			m["ad_slot"] = d.slot
			m["date"] = d.day.Format(time.DateOnly)
			items = append(items, m)
		}
		units = append(units, map[string]any{"ad_unit_id": u.id, "ad_unit_name": u.name, "stat_item": items})
	}
	lo, hi := page(len(units), q.page, q.size)
	return 0, map[string]any{"list": append([]any{}, units[lo:hi]...), "total_num": len(units)}
}

// agencyAdsStat answers get_agency_ads_stat: every opened Mini Program together, per day.
func (s *Sim) agencyAdsStat(body map[string]any) (int, map[string]any) {
	q, ok := readDataQuery(body, 0)
	if !ok {
		return 1700, nil
	}
	if code := s.failedDay(s.cfg.ComponentAppID, q.from, q.to); code != 0 {
		return code, nil
	}
	perDay := map[string]figures{}
	var sum figures
	for _, id := range s.openedMiniPrograms() {
		for _, d := range s.accountDays(id, q.from, q.to, q.slot) {
			k := d.day.Format(time.DateOnly)
			perDay[k] = perDay[k].add(d.f)
			sum = sum.add(d.f)
		}
	}
	var dates []string
	for k := range perDay {
		dates = append(dates, k)
	}
	slices.Sort(dates)
	slices.Reverse(dates)
	lo, hi := page(len(dates), q.page, q.size)
	list := []any{}
	for _, d := range dates[lo:hi] {
		m := metrics(perDay[d], false)
		m["date"] = d
		list = append(list, m)
	}
	return 0, map[string]any{"summary": metrics(sum, false), "list": list, "total_num": len(dates)}
}

// detailRow is one ad unit of one opened Mini Program, summed over a range.
type detailRow struct {
	appID string
	unit  *simUnit
	f     figures
}

// agencyAdsDetail answers get_agency_ads_detail: per unit of every opened
// Mini Program, summed over the dates, at most 200 a page.
func (s *Sim) agencyAdsDetail(body map[string]any) (int, map[string]any) {
	q, ok := readDataQuery(body, wechat.MaxAdsDetailPageSize)
	if !ok {
		return 1700, nil
	}
	if code := s.failedDay(s.cfg.ComponentAppID, q.from, q.to); code != 0 {
		return code, nil
	}
	rows := keptOr(s, keptKey{wechat.ActionGetAgencyAdsDetail, q.from, q.to, q.slot}, func() []detailRow {
		return s.detailRows(q.from, q.to, q.slot)
	})
	lo, hi := page(len(rows), q.page, q.size)
	list := []any{}
	for _, r := range rows[lo:hi] {
		list = append(list, map[string]any{"ad_unit_id": r.unit.id, "ad_unit_name": r.unit.name, "appid": r.appID, "stat_item": metrics(r.f, false)})
	}
	return 0, map[string]any{"list": list, "total_num": len(rows)}
}

// detailRows sums every opened Mini Program's seeded units over [from, to],
// for slot ("" for all), leaving out units without exposure. s.mu must be held.
func (s *Sim) detailRows(from, to time.Time, slot string) []detailRow {
	var rows []detailRow
	for _, id := range s.openedMiniPrograms() {
		for _, u := range s.account(id).units {
			if !u.seeded || (slot != "" && u.slot != slot) {
				continue
			}
			var f figures
			for _, d := range s.accountDays(id, from, to, u.slot) {
				f = f.add(d.f)
			}
			if f.exposure > 0 {
				rows = append(rows, detailRow{id, u, f})
			}
		}
	}
	return rows
}
