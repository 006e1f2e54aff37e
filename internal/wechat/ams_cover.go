package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Cover ad statuses as agency_set_cover_adpos_status takes them.
const (
	CoverOn  = 1
	CoverOff = 4
)

// CoverStatus is the cover slot's state and when it may next be switched.
type CoverStatus struct {
	Status       int       // CoverOn or CoverOff
	NextOpenTime time.Time // zero when WeChat gave none
}

// On reports whether cover ads are on.
func (c CoverStatus) On() bool { return c.Status == CoverOn }

// GetCoverAdposStatus reads the cover ad status.
func (c *Client) GetCoverAdposStatus(ctx context.Context, authorizerAccessToken string) (CoverStatus, error) {
	var out struct {
		Status       Int `json:"status"`
		NextOpenTime Int `json:"next_open_time"`
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionGetCoverAdposStatus, struct{}{}, &out)
	if err != nil {
		return CoverStatus{}, err
	}
	st := CoverStatus{Status: int(out.Status)}
	if out.NextOpenTime > 0 {
		st.NextOpenTime = time.Unix(int64(out.NextOpenTime), 0)
	}
	return st, nil
}

// SetCoverAdposStatus switches cover ads on or off: at most once an hour
// (2008), not when already on (2067), not within an hour of opening (2068).
func (c *Client) SetCoverAdposStatus(ctx context.Context, authorizerAccessToken string, on bool) error {
	status := CoverOff
	if on {
		status = CoverOn
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionSetCoverAdposStatus, map[string]any{"status": status}, nil)
	return err
}

// GetCoverAdposScene reads the scenes where cover ads show (scene_list, or cover_scene_list as one SDK reads it).
func (c *Client) GetCoverAdposScene(ctx context.Context, authorizerAccessToken string) (SceneList, error) {
	var out struct {
		SceneList      *SceneList `json:"scene_list"`
		CoverSceneList *SceneList `json:"cover_scene_list"`
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionGetCoverAdposScene, struct{}{}, &out)
	if err != nil {
		return nil, err
	}
	switch {
	case out.SceneList != nil:
		return *out.SceneList, nil
	case out.CoverSceneList != nil:
		return *out.CoverSceneList, nil
	}
	return SceneList{}, nil
}

// SetCoverAdposScene sets the scenes where cover ads show.
func (c *Client) SetCoverAdposScene(ctx context.Context, authorizerAccessToken string, scenes SceneList) error {
	if len(scenes) == 0 {
		return fmt.Errorf("wechat: cover scenes: at least one scene is required")
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionSetCoverAdposScene, map[string]any{"cover_scene_list": scenes.String()}, nil)
	return err
}

// Kinds of blocked advertisers, as agency_set_black_list's type.
const (
	BlockOfficialAccount = 1 // Official Account (biz)
	BlockIOSApp          = 2 // iOS appid
	BlockAndroidApp      = 3 // Android package name
	BlockMiniProgram     = 4 // Mini Program or game original id
)

// BlockCaps are WeChat's caps per kind; one more is refused with 2035.
var BlockCaps = map[int]int{BlockOfficialAccount: 20, BlockIOSApp: 10, BlockAndroidApp: 10, BlockMiniProgram: 20}

// BlockedAdvertiser is one entry of a blocklist.
type BlockedAdvertiser struct {
	ID   Text   `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	Icon string `json:"icon"`
}

// BlackList is a Mini Program's blocked advertisers per kind.
type BlackList struct {
	OfficialAccounts List[BlockedAdvertiser] `json:"blacklist_biz"`
	MiniPrograms     List[BlockedAdvertiser] `json:"blacklist_weapp"`
	IOSApps          List[BlockedAdvertiser] `json:"blacklist_ios"`
	AndroidApps      List[BlockedAdvertiser] `json:"blacklist_android"`
}

// Of returns the entries of one kind.
func (b BlackList) Of(kind int) []BlockedAdvertiser {
	switch kind {
	case BlockOfficialAccount:
		return b.OfficialAccounts
	case BlockIOSApp:
		return b.IOSApps
	case BlockAndroidApp:
		return b.AndroidApps
	case BlockMiniProgram:
		return b.MiniPrograms
	}
	return nil
}

// GetBlackList reads the blocked advertisers.
func (c *Client) GetBlackList(ctx context.Context, authorizerAccessToken string) (BlackList, error) {
	var out BlackList
	_, err := c.mini(ctx, authorizerAccessToken, ActionGetBlackList, struct{}{}, &out)
	return out, err
}

// BlockEntry names one advertiser to block or unblock.
type BlockEntry struct {
	Type int    `json:"type"` // a Block constant
	ID   string `json:"id"`
}

// SetBlackList adds (add true) or removes entries. WeChat wants list as a
// JSON-encoded string, not an array: an array is refused.
func (c *Client) SetBlackList(ctx context.Context, authorizerAccessToken string, add bool, entries []BlockEntry) error {
	if len(entries) == 0 {
		return fmt.Errorf("wechat: blacklist: no entries")
	}
	for _, e := range entries {
		if _, ok := BlockCaps[e.Type]; !ok || e.ID == "" {
			return fmt.Errorf("wechat: blacklist entry %+v: unknown type or empty id", e)
		}
	}
	list, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	op := 2
	if add {
		op = 1
	}
	_, err = c.mini(ctx, authorizerAccessToken, ActionSetBlackList, map[string]any{"op": op, "list": string(list)}, nil)
	return err
}

// AmsCategories are the industries an advertiser may be blocked by
// (SECURITES is WeChat's spelling).
var AmsCategories = []string{
	"CHESS", "ADULT_SUPPLIES", "MEDICAL_HEALTH", "INSURANCE", "SECURITES", "LOAN",
	"LIVING_SERVICES_BEAUTY", "LIVING_SERVICES_ENTERTAINMENT", "LIVING_SERVICES_OTHERS",
	"FOOD_INDUSTRY", "RETAIL_AND_GENERAL_MERCHANDISE", "FOOD_AND_DRINK", "TECHNICAL_SERVICE",
}

// GetAmsCategoryBlacklist reads the blocked industries.
func (c *Client) GetAmsCategoryBlacklist(ctx context.Context, authorizerAccessToken string) ([]string, error) {
	var out struct {
		AmsCategory string `json:"ams_category"`
	}
	if _, err := c.mini(ctx, authorizerAccessToken, ActionGetAmsCategoryBlacklist, struct{}{}, &out); err != nil {
		return nil, err
	}
	cats := []string{}
	for _, p := range strings.Split(out.AmsCategory, "|") {
		if p = strings.TrimSpace(p); p != "" {
			cats = append(cats, p)
		}
	}
	return cats, nil
}

// SetAmsCategoryBlacklist replaces the blocked industries (none unblocks all).
func (c *Client) SetAmsCategoryBlacklist(ctx context.Context, authorizerAccessToken string, categories []string) error {
	for _, cat := range categories {
		if !slices.Contains(AmsCategories, cat) {
			return fmt.Errorf("wechat: unknown industry %q", cat)
		}
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionSetAmsCategoryBlacklist, map[string]any{"ams_category": strings.Join(categories, "|")}, nil)
	return err
}
