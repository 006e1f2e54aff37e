package wechat

import (
	"context"
	"encoding/json"
	"fmt"
)

// MaxAdsDetailPageSize is get_agency_ads_detail's largest page.
const MaxAdsDetailPageSize = 200

// AdMetrics are the figures every ad data action reports. Money is in fen;
// eCPM (fen per thousand exposures) and the rates (0..1) are decimals.
type AdMetrics struct {
	ReqSuccCount    Int     `json:"req_succ_count"`
	ExposureCount   Int     `json:"exposure_count"`
	ExposureRate    Decimal `json:"exposure_rate"`
	ClickCount      Int     `json:"click_count"`
	ClickRate       Decimal `json:"click_rate"`
	Income          Fen     `json:"income"`
	PublisherIncome Fen     `json:"publisher_income"`
	AgencyIncome    Fen     `json:"agency_income"` // typed boolean on one page: a boolean reads as 0
	ECPM            Decimal `json:"ecpm"`
	ExposureUV      Int     `json:"exposure_uv"`
	OpenUV          Int     `json:"open_uv"`
}

// Add sums the counts and the money of two sets of figures; the decimals,
// which do not add, are left as in m.
func (m AdMetrics) Add(o AdMetrics) AdMetrics {
	m.ReqSuccCount += o.ReqSuccCount
	m.ExposureCount += o.ExposureCount
	m.ClickCount += o.ClickCount
	m.Income += o.Income
	m.PublisherIncome += o.PublisherIncome
	m.AgencyIncome += o.AgencyIncome
	m.ExposureUV += o.ExposureUV
	m.OpenUV += o.OpenUV
	return m
}

// fillPublisherIncome applies the per Mini Program reading of the figures:
// they are the Mini Program's own income, spelled publisher_income on one
// page and income on another.
func fillPublisherIncome(raw []byte, m *AdMetrics) {
	k := presentKeys(raw)
	switch {
	case !k["publisher_income"] && k["income"]:
		m.PublisherIncome = m.Income
	case k["publisher_income"] && !k["income"]:
		m.Income = m.PublisherIncome
	}
}

// PublisherMetrics are a Mini Program's figures (agency_get_adpos_genenral's
// summary), with PublisherIncome and Income filled from either spelling.
type PublisherMetrics struct{ AdMetrics }

// UnmarshalJSON reads either spelling of the income.
func (p *PublisherMetrics) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &p.AdMetrics); err != nil {
		return err
	}
	fillPublisherIncome(b, &p.AdMetrics)
	return nil
}

// SlotDayStat is one slot on one day of a Mini Program.
type SlotDayStat struct {
	SlotID Text   `json:"slot_id"`
	AdSlot string `json:"ad_slot"`
	Date   string `json:"date"`
	AdMetrics
}

// UnmarshalJSON reads either spelling of the income.
func (s *SlotDayStat) UnmarshalJSON(b []byte) error {
	type plain SlotDayStat
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	fillPublisherIncome(b, &s.AdMetrics)
	return nil
}

// AdposGeneral is one page of agency_get_adpos_genenral, newest first.
type AdposGeneral struct {
	List     []SlotDayStat    `json:"list"`
	Summary  PublisherMetrics `json:"summary"`
	TotalNum Int              `json:"total_num"`
}

// StatQuery selects ad data; dates are yyyy-mm-dd, empty filters select all.
type StatQuery struct {
	Page, PageSize     int
	StartDate, EndDate string
	AdSlot             string
	AdUnitID           string // agency_get_adunit_general only
}

func (q StatQuery) body(maxPage int) (map[string]any, error) {
	if q.Page < 1 || q.PageSize < 1 || (maxPage > 0 && q.PageSize > maxPage) {
		return nil, fmt.Errorf("wechat: ad data page %d size %d: page from 1, size 1..%d", q.Page, q.PageSize, maxPage)
	}
	if q.StartDate == "" || q.EndDate == "" {
		return nil, fmt.Errorf("wechat: ad data needs start_date and end_date")
	}
	b := map[string]any{"page": q.Page, "page_size": q.PageSize, "start_date": q.StartDate, "end_date": q.EndDate}
	if q.AdSlot != "" {
		b["ad_slot"] = q.AdSlot
	}
	return b, nil
}

// GetAdposGeneral reads a Mini Program's figures per slot per day. It sends
// the action as WeChat misspells it: agency_get_adpos_genenral.
func (c *Client) GetAdposGeneral(ctx context.Context, authorizerAccessToken string, q StatQuery) (AdposGeneral, error) {
	body, err := q.body(0)
	if err != nil {
		return AdposGeneral{}, err
	}
	var out AdposGeneral
	_, err = c.mini(ctx, authorizerAccessToken, ActionGetAdposGeneral, body, &out)
	return out, err
}

// UnitDayStat is one day of one ad unit.
type UnitDayStat struct {
	AdSlot string `json:"ad_slot"`
	Date   string `json:"date"`
	AdMetrics
}

// UnmarshalJSON reads either spelling of the income.
func (s *UnitDayStat) UnmarshalJSON(b []byte) error {
	type plain UnitDayStat
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	fillPublisherIncome(b, &s.AdMetrics)
	return nil
}

// UnitStat is one ad unit's days.
type UnitStat struct {
	AdUnitID   string            `json:"ad_unit_id"`
	AdUnitName string            `json:"ad_unit_name"`
	StatItem   List[UnitDayStat] `json:"stat_item"` // an array, or one object
}

// AdUnitGeneral is one page of agency_get_adunit_general.
type AdUnitGeneral struct {
	List     []UnitStat `json:"list"`
	TotalNum Int        `json:"total_num"`
}

// GetAdUnitGeneral reads a Mini Program's figures per ad unit per day.
func (c *Client) GetAdUnitGeneral(ctx context.Context, authorizerAccessToken string, q StatQuery) (AdUnitGeneral, error) {
	body, err := q.body(0)
	if err != nil {
		return AdUnitGeneral{}, err
	}
	if q.AdUnitID != "" {
		body["ad_unit_id"] = q.AdUnitID
	}
	var out AdUnitGeneral
	_, err = c.mini(ctx, authorizerAccessToken, ActionGetAdUnitGeneral, body, &out)
	return out, err
}

// Settlement interval statuses (sett_status).
const (
	SettSettling = 1
	SettSettled  = 2 // 2 and 3 both mean settled
	SettSettled3 = 3
	SettPaying   = 4
	SettPaid     = 5
)

// SlotRevenue is one slot's part of a settlement interval.
type SlotRevenue struct {
	SlotID             Text `json:"slot_id"`
	SlotSettledRevenue Fen  `json:"slot_settled_revenue"`
}

// SettlementItem is one half-month interval; amounts are in fen.
type SettlementItem struct {
	Date           string            `json:"date"`
	Zone           string            `json:"zone"`
	Month          Text              `json:"month"` // yyyyMM
	Order          Int               `json:"order"` // 1 first half, 2 second half
	SettStatus     Int               `json:"sett_status"`
	SettledRevenue Fen               `json:"settled_revenue"`
	SettNo         Text              `json:"sett_no"`
	MailSendCnt    Int               `json:"mail_send_cnt"` // a string on the wire
	SlotRevenue    List[SlotRevenue] `json:"slot_revenue"`
}

// Settlement is the reply of agency_get_settlement and get_agency_settled_revenue.
type Settlement struct {
	RevenueAll        Fen              `json:"revenue_all"`
	PenaltyAll        Fen              `json:"penalty_all"`
	SettledRevenueAll Fen              `json:"settled_revenue_all"`
	List              []SettlementItem `json:"settlement_list"`
	TotalNum          Int              `json:"total_num"`
}

func settlementBody(startDate, endDate string, page, pageSize int) (map[string]any, error) {
	return StatQuery{Page: page, PageSize: pageSize, StartDate: startDate, EndDate: endDate}.body(0)
}

// GetSettlement reads a Mini Program's settlement; every half-month interval
// overlapping the dates (yyyy-mm-dd) is returned.
func (c *Client) GetSettlement(ctx context.Context, authorizerAccessToken, startDate, endDate string, page, pageSize int) (Settlement, error) {
	body, err := settlementBody(startDate, endDate, page, pageSize)
	if err != nil {
		return Settlement{}, err
	}
	var out Settlement
	_, err = c.mini(ctx, authorizerAccessToken, ActionGetSettlement, body, &out)
	return out, err
}
