package wechat

import (
	"context"
	"net/url"
)

// Paths of the ams family. Per Mini Program actions go to operationams with
// the authorizer's token; the provider's own go to the two amsinfo paths
// with the component token.
const (
	pathOperationAMS = "/wxa/operationams"
	pathSetAMSInfo   = "/wxa/setdefaultamsinfo"
	pathGetAMSInfo   = "/wxa/getdefaultamsinfo"
)

// Slot names of the ad positions (ad_slot, slot_id, and type on create).
const (
	SlotBanner       = "SLOT_ID_WEAPP_BANNER"
	SlotRewardVideo  = "SLOT_ID_WEAPP_REWARD_VIDEO"
	SlotInterstitial = "SLOT_ID_WEAPP_INTERSTITIAL"
	SlotVideoFeeds   = "SLOT_ID_WEAPP_VIDEO_FEEDS"
	SlotVideoBegin   = "SLOT_ID_WEAPP_VIDEO_BEGIN"
	SlotBox          = "SLOT_ID_WEAPP_BOX"
	SlotTemplate     = "SLOT_ID_WEAPP_TEMPLATE"
	SlotCover        = "SLOT_ID_WEAPP_COVER"
)

// Slots lists every ad slot, in WeChat's order.
func Slots() []string {
	return []string{SlotBanner, SlotRewardVideo, SlotInterstitial, SlotVideoFeeds, SlotVideoBegin, SlotBox, SlotTemplate, SlotCover}
}

// Action names of the ams family, as WeChat spells them.
const (
	ActionCheckCanOpenPublisher   = "agency_check_can_open_publisher"
	ActionCreatePublisher         = "agency_create_publisher"
	ActionCreateAdUnit            = "agency_create_adunit"
	ActionUpdateAdUnit            = "agency_update_adunit"
	ActionGetAdUnitList           = "agency_get_adunit_list"
	ActionGetAdUnitCode           = "agency_get_adunit_code"
	ActionGetTmplType             = "agency_get_tmpl_type"
	ActionGetAgencyAdUnitList     = "get_agency_ad_unit_list"
	ActionSetCoverAdposStatus     = "agency_set_cover_adpos_status"
	ActionGetCoverAdposStatus     = "agency_get_cover_adpos_status"
	ActionSetCoverAdposScene      = "agency_set_cover_adpos_scene"
	ActionGetCoverAdposScene      = "agency_get_cover_adpos_scene"
	ActionGetBlackList            = "agency_get_black_list"
	ActionSetBlackList            = "agency_set_black_list"
	ActionGetAmsCategoryBlacklist = "agency_get_mp_amscategory_blacklist"
	ActionSetAmsCategoryBlacklist = "agency_set_mp_amscategory_blacklist"
	ActionGetAdposGeneral         = "agency_get_adpos_genenral" // sic: WeChat's spelling, sent exactly so
	ActionGetAdUnitGeneral        = "agency_get_adunit_general"
	ActionGetSettlement           = "agency_get_settlement"
	ActionSetShareRatio           = "set_share_ratio"
	ActionSetCustomShareRatio     = "agency_set_custom_share_ratio"
	ActionGetShareRatio           = "get_share_ratio"
	ActionGetCustomShareRatio     = "agency_get_custom_share_ratio"
	ActionGetAgencyAdsStat        = "get_agency_ads_stat"
	ActionGetAgencyAdsDetail      = "get_agency_ads_detail"
	ActionGetAgencySettledRevenue = "get_agency_settled_revenue"
)

// amsCall sends one action of the family. Unlike opening, these replies are
// read leniently: a reply without any code is success (get_share_ratio has
// been seen to answer only {"share_ratio":50}), and the code may come in any
// of the three shapes.
func (c *Client) amsCall(ctx context.Context, path, action, token string, body, out any) ([]byte, error) {
	q := url.Values{"action": {action}, "access_token": {token}}
	return c.call(ctx, path, q, body, out, false)
}

// mini calls a per Mini Program action with the authorizer access token.
func (c *Client) mini(ctx context.Context, authorizerToken, action string, body, out any) ([]byte, error) {
	return c.amsCall(ctx, pathOperationAMS, action, authorizerToken, body, out)
}

// IsAdOperationCode reports whether code is one only the ad operations return
// (never opening the traffic master), so a caller listing opening's outcomes
// can leave it out.
func IsAdOperationCode(code int) bool {
	switch code {
	case 1803, 2008, 2035, 2061, 2067, 2068:
		return true
	}
	return false
}
