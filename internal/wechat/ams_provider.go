package wechat

import (
	"context"
	"fmt"
)

// The provider's own actions take the component access token, sent as
// access_token like every other action of the family.

// SetShareRatio sets the provider's default share (percent, 0..100) for every
// Mini Program. It takes effect for each only once its merchant confirms.
func (c *Client) SetShareRatio(ctx context.Context, componentToken string, ratio int) error {
	if ratio < 0 || ratio > 100 {
		return fmt.Errorf("wechat: share ratio %d outside 0..100", ratio)
	}
	_, err := c.amsCall(ctx, pathSetAMSInfo, ActionSetShareRatio, componentToken, map[string]any{"share_ratio": ratio}, nil)
	return err
}

// SetCustomShareRatio overrides the default for one Mini Program, also pending its merchant's confirmation.
func (c *Client) SetCustomShareRatio(ctx context.Context, componentToken, appID string, ratio int) error {
	if ratio < 0 || ratio > 100 {
		return fmt.Errorf("wechat: share ratio %d outside 0..100", ratio)
	}
	_, err := c.amsCall(ctx, pathSetAMSInfo, ActionSetCustomShareRatio, componentToken, map[string]any{"appid": appID, "share_ratio": ratio}, nil)
	return err
}

func (c *Client) getRatio(ctx context.Context, componentToken, action, appID string) (int, error) {
	var out struct {
		ShareRatio *Int `json:"share_ratio"`
	}
	raw, err := c.amsCall(ctx, pathGetAMSInfo, action, componentToken, map[string]any{"appid": appID}, &out)
	if err != nil {
		return 0, err
	}
	if out.ShareRatio == nil {
		return 0, missing(raw, "share_ratio")
	}
	return int(*out.ShareRatio), nil
}

// GetShareRatio returns, for the provider's own appid, its default; for a
// Mini Program's, the ratio in effect (which a pending change does not alter).
func (c *Client) GetShareRatio(ctx context.Context, componentToken, appID string) (int, error) {
	return c.getRatio(ctx, componentToken, ActionGetShareRatio, appID)
}

// GetCustomShareRatio returns a Mini Program's custom ratio, whether in effect
// or pending; set is false when none is (WeChat's 2061).
func (c *Client) GetCustomShareRatio(ctx context.Context, componentToken, appID string) (ratio int, set bool, err error) {
	ratio, err = c.getRatio(ctx, componentToken, ActionGetCustomShareRatio, appID)
	if code, ok := CodeOf(err); ok && code == 2061 {
		return 0, false, nil
	}
	return ratio, err == nil, err
}

// AgencyDayStat is one day of every Mini Program together.
type AgencyDayStat struct {
	Date           string `json:"date"`
	PublisherAppID string `json:"publisher_appid"` // present on some replies
	AdMetrics
}

// AgencyAdsStat is one page of get_agency_ads_stat, newest first.
type AgencyAdsStat struct {
	Summary  AdMetrics       `json:"summary"`
	List     []AgencyDayStat `json:"list"`
	TotalNum Int             `json:"total_num"`
}

// GetAgencyAdsStat reads the provider's totals per day. The pages disagree
// on its token; the component token is used, as for its neighbours on this path.
func (c *Client) GetAgencyAdsStat(ctx context.Context, componentToken string, q StatQuery) (AgencyAdsStat, error) {
	body, err := q.body(0)
	if err != nil {
		return AgencyAdsStat{}, err
	}
	var out AgencyAdsStat
	_, err = c.amsCall(ctx, pathGetAMSInfo, ActionGetAgencyAdsStat, componentToken, body, &out)
	return out, err
}

// AdUnitDetail is one ad unit of one Mini Program over the requested dates.
type AdUnitDetail struct {
	AdUnitID   string          `json:"ad_unit_id"`
	AdUnitName string          `json:"ad_unit_name"`
	AppID      string          `json:"appid"`
	StatItem   List[AdMetrics] `json:"stat_item"` // one object, or an array
}

// Total sums the unit's stat items.
func (d AdUnitDetail) Total() AdMetrics {
	var t AdMetrics
	for _, s := range d.StatItem {
		t = t.Add(s)
	}
	return t
}

// AgencyAdsDetail is one page of get_agency_ads_detail.
type AgencyAdsDetail struct {
	List     []AdUnitDetail `json:"list"`
	TotalNum Int            `json:"total_num"`
}

// GetAgencyAdsDetail reads every Mini Program's figures per ad unit, at most 200 a page.
func (c *Client) GetAgencyAdsDetail(ctx context.Context, componentToken string, q StatQuery) (AgencyAdsDetail, error) {
	body, err := q.body(MaxAdsDetailPageSize)
	if err != nil {
		return AgencyAdsDetail{}, err
	}
	var out AgencyAdsDetail
	_, err = c.amsCall(ctx, pathGetAMSInfo, ActionGetAgencyAdsDetail, componentToken, body, &out)
	return out, err
}

// GetAgencySettledRevenue reads the provider's own settlement. Its path is
// not settled in WeChat's pages; getdefaultamsinfo, where the provider's
// other reads live, is used.
func (c *Client) GetAgencySettledRevenue(ctx context.Context, componentToken, startDate, endDate string, page, pageSize int) (Settlement, error) {
	body, err := settlementBody(startDate, endDate, page, pageSize)
	if err != nil {
		return Settlement{}, err
	}
	var out Settlement
	_, err = c.amsCall(ctx, pathGetAMSInfo, ActionGetAgencySettledRevenue, componentToken, body, &out)
	return out, err
}
