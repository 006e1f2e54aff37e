package wechat

import (
	"context"
	"errors"
	"net/url"
)

// AMS calls one action of the operationams family with an authorizer access
// token. On success out (if non-nil) is filled from the reply. raw is returned
// whenever a reply was received, including with a *Error, so callers can
// keep an audit trail.
func (c *Client) AMS(ctx context.Context, accessToken, action string, body any, out any) ([]byte, error) {
	q := url.Values{"action": {action}, "access_token": {accessToken}}
	return c.call(ctx, "/wxa/operationams", q, body, out, true)
}

// CheckResult is the reply of agency_check_can_open_publisher.
type CheckResult struct {
	Status int // 1 can open, 0 cannot; advice only, WeChat sometimes disagrees with itself
	Ret    int
	ErrMsg string
	Raw    []byte
}

// PublisherResult is the reply of agency_create_publisher.
type PublisherResult struct {
	Ret    int
	ErrMsg string
	Raw    []byte
}

// codeResult fills the audit fields from a *Error so they are recorded even on failure.
func codeResult(err error) (int, string) {
	var we *Error
	if errors.As(err, &we) {
		return we.Code, we.Message
	}
	return 0, ""
}

// CheckCanOpenPublisher asks whether the traffic master can be opened. When
// WeChat answers with a non-zero code both the result and a *Error are returned.
func (c *Client) CheckCanOpenPublisher(ctx context.Context, authorizerAccessToken string) (CheckResult, error) {
	var out struct {
		Ret    int    `json:"ret"`
		ErrMsg string `json:"err_msg"`
		Status int    `json:"status"`
	}
	raw, err := c.AMS(ctx, authorizerAccessToken, "agency_check_can_open_publisher", struct{}{}, &out)
	res := CheckResult{Status: out.Status, Ret: out.Ret, ErrMsg: out.ErrMsg, Raw: raw}
	if err != nil {
		res.Ret, res.ErrMsg = codeResult(err)
	}
	return res, err
}

// CreatePublisher opens the traffic master. When WeChat answers with a
// non-zero code both the result and a *Error are returned.
func (c *Client) CreatePublisher(ctx context.Context, authorizerAccessToken string) (PublisherResult, error) {
	var out struct {
		Ret    int    `json:"ret"`
		ErrMsg string `json:"err_msg"`
	}
	raw, err := c.AMS(ctx, authorizerAccessToken, "agency_create_publisher", struct{}{}, &out)
	res := PublisherResult{Ret: out.Ret, ErrMsg: out.ErrMsg, Raw: raw}
	if err != nil {
		res.Ret, res.ErrMsg = codeResult(err)
	}
	return res, err
}

// AdUnitSize is one allowed size of an ad unit.
type AdUnitSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// AdUnit is one ad unit of a Mini Program.
type AdUnit struct {
	AdSlot   string       `json:"ad_slot"`
	AdUnitID string       `json:"ad_unit_id"`
	Name     string       `json:"ad_unit_name"`
	Sizes    []AdUnitSize `json:"ad_unit_size"`
	Status   int          `json:"ad_unit_status"` // 1 on, 2 off
}

// AdUnitList is one page of agency_get_adunit_list.
type AdUnitList struct {
	AdUnits  []AdUnit `json:"ad_unit"`
	TotalNum int      `json:"total_num"`
}

// GetAdUnitList lists a Mini Program's ad units; adSlot may be empty for all slots.
func (c *Client) GetAdUnitList(ctx context.Context, authorizerAccessToken string, page, pageSize int, adSlot string) (AdUnitList, error) {
	body := map[string]any{"page": page, "page_size": pageSize}
	if adSlot != "" {
		body["ad_slot"] = adSlot
	}
	var out AdUnitList
	_, err := c.AMS(ctx, authorizerAccessToken, "agency_get_adunit_list", body, &out)
	return out, err
}

// SettlementItem is one settlement period; amounts are in fen as WeChat reports them.
type SettlementItem struct {
	Date           string `json:"date"`
	Zone           string `json:"zone"`
	Month          string `json:"month"`
	Order          int    `json:"order"`
	SettStatus     int    `json:"sett_status"`
	SettledRevenue int64  `json:"settled_revenue"`
	SettNo         string `json:"sett_no"`
}

// Settlement is the reply of agency_get_settlement.
type Settlement struct {
	RevenueAll        int64            `json:"revenue_all"`
	PenaltyAll        int64            `json:"penalty_all"`
	SettledRevenueAll int64            `json:"settled_revenue_all"`
	List              []SettlementItem `json:"settlement_list"`
	TotalNum          int              `json:"total_num"`
}

// GetSettlement reads settlement data; dates are YYYY-MM-DD.
func (c *Client) GetSettlement(ctx context.Context, authorizerAccessToken, startDate, endDate string, page, pageSize int) (Settlement, error) {
	var out Settlement
	_, err := c.AMS(ctx, authorizerAccessToken, "agency_get_settlement", map[string]any{
		"page": page, "page_size": pageSize, "start_date": startDate, "end_date": endDate,
	}, &out)
	return out, err
}
