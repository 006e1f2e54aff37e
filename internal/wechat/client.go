package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the production API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// maxReplySize bounds reads so a misbehaving upstream cannot exhaust memory;
// it is larger than maxRawInError because a full authorizer list page is big.
const maxReplySize = 4 << 20

// MaxAuthorizerListCount is the largest page api_get_authorizer_list accepts.
const MaxAuthorizerListCount = 500

// Config configures a Client.
type Config struct {
	BaseURL            string // default DefaultBaseURL
	ComponentAppID     string
	ComponentAppSecret string
	HTTPClient         *http.Client // default: 15s timeout
}

// Client calls the WeChat third-party platform API. It holds no token state,
// so callers decide how tokens are cached and shared across processes.
type Client struct {
	base   string
	appID  string
	secret string
	hc     *http.Client
}

// NewClient builds a Client, filling defaults.
func NewClient(cfg Config) *Client {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: base, appID: cfg.ComponentAppID, secret: cfg.ComponentAppSecret, hc: hc}
}

// ComponentAppID returns the platform appid the client acts for.
func (c *Client) ComponentAppID() string { return c.appID }

// post sends a JSON POST and returns the status and a bounded body.
func (c *Client) post(ctx context.Context, path string, query url.Values, body any) (int, []byte, error) {
	op := "POST " + path
	if body == nil {
		body = struct{}{}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return 0, nil, fmt.Errorf("wechat: %s: encode request: %w", op, err)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, newTransportError(op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, newTransportError(op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReplySize+1))
	if err != nil {
		return resp.StatusCode, nil, newTransportError(op, err)
	}
	if len(raw) > maxReplySize {
		return resp.StatusCode, nil, &DecodeError{HTTPStatus: resp.StatusCode, Raw: capRaw(raw), Err: errors.New("reply too large")}
	}
	return resp.StatusCode, raw, nil
}

// call posts and decodes into out, which must describe a success reply.
func (c *Client) call(ctx context.Context, path string, query url.Values, body, out any, requireCode bool) ([]byte, error) {
	status, raw, err := c.post(ctx, path, query, body)
	if err != nil {
		return raw, err
	}
	if err := decodeReply(status, raw, requireCode); err != nil {
		return raw, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, &DecodeError{HTTPStatus: status, Raw: capRaw(raw), Err: err}
		}
	}
	return raw, nil
}

func tokenQuery(name, token string) url.Values {
	return url.Values{name: {token}}
}

// component calls one of the component (platform) APIs: the body carries the
// component appid, the query the component access token (none for the request
// that obtains it). When value is not nil, the reply must fill it: an empty
// value is reported as the reply lacking the field named required.
func (c *Client) component(ctx context.Context, path, componentToken string, body map[string]any, out any, required string, value *string) ([]byte, error) {
	var query url.Values
	if componentToken != "" {
		query = tokenQuery("component_access_token", componentToken)
	}
	if body == nil {
		body = map[string]any{}
	}
	body["component_appid"] = c.appID
	raw, err := c.call(ctx, path, query, body, out, false)
	if err == nil && value != nil && *value == "" {
		err = missing(raw, required)
	}
	return raw, err
}

func missing(raw []byte, field string) error {
	return &DecodeError{HTTPStatus: http.StatusOK, Raw: capRaw(raw), Err: fmt.Errorf("reply lacks %s", field)}
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// Token is an access token and its lifetime as reported by WeChat.
type Token struct {
	Value     string
	ExpiresIn time.Duration
}

// ComponentToken exchanges the latest verify ticket for a component access token.
func (c *Client) ComponentToken(ctx context.Context, ticket string) (Token, error) {
	var out struct {
		Token     string `json:"component_access_token"`
		ExpiresIn int64  `json:"expires_in"`
	}
	_, err := c.component(ctx, "/cgi-bin/component/api_component_token", "", map[string]any{
		"component_appsecret":     c.secret,
		"component_verify_ticket": ticket,
	}, &out, "component_access_token", &out.Token)
	if err != nil {
		return Token{}, err
	}
	return Token{Value: out.Token, ExpiresIn: seconds(out.ExpiresIn)}, nil
}

// StartPushTicket asks WeChat to push a verify ticket now instead of within ten minutes.
func (c *Client) StartPushTicket(ctx context.Context) error {
	_, err := c.call(ctx, "/cgi-bin/component/api_start_push_ticket", nil, map[string]string{
		"component_appid":  c.appID,
		"component_secret": c.secret,
	}, nil, true)
	return err
}

// CreatePreAuthCode obtains a single-use code for the authorization page.
func (c *Client) CreatePreAuthCode(ctx context.Context, componentToken string) (string, time.Duration, error) {
	var out struct {
		Code      string `json:"pre_auth_code"`
		ExpiresIn int64  `json:"expires_in"`
	}
	_, err := c.component(ctx, "/cgi-bin/component/api_create_preauthcode", componentToken, nil, &out, "pre_auth_code", &out.Code)
	if err != nil {
		return "", 0, err
	}
	return out.Code, seconds(out.ExpiresIn), nil
}

// AuthorizationURL builds the page where a merchant approves the platform.
// authType is 1 for Official Accounts, 2 for Mini Programs, 3 for both.
func AuthorizationURL(base, componentAppID, preAuthCode, redirectURI string, authType int) string {
	q := url.Values{
		"component_appid": {componentAppID},
		"pre_auth_code":   {preAuthCode},
		"redirect_uri":    {redirectURI},
		"auth_type":       {strconv.Itoa(authType)},
	}
	return strings.TrimRight(base, "/") + "/cgi-bin/componentloginpage?" + q.Encode()
}

// MobileAuthorizationURL builds the same page for a phone: opened inside
// WeChat (scanning a QR code of it, or tapping it in a chat), the account's
// administrator approves there without a computer.
func MobileAuthorizationURL(base, componentAppID, preAuthCode, redirectURI string, authType int) string {
	q := url.Values{
		"action":          {"bindcomponent"},
		"no_scan":         {"1"},
		"component_appid": {componentAppID},
		"pre_auth_code":   {preAuthCode},
		"redirect_uri":    {redirectURI},
		"auth_type":       {strconv.Itoa(authType)},
	}
	return strings.TrimRight(base, "/") + "/safe/bindcomponent?" + q.Encode() + "#wechat_redirect"
}

// AuthorizationInfo is what an authorization code is exchanged for.
type AuthorizationInfo struct {
	AuthorizerAppID string
	AccessToken     string
	RefreshToken    string
	ExpiresIn       time.Duration
	FuncScopeIDs    []int
}

type funcInfo []struct {
	Category struct {
		ID int `json:"id"`
	} `json:"funcscope_category"`
}

func (f funcInfo) ids() []int {
	ids := make([]int, 0, len(f))
	for _, fi := range f {
		ids = append(ids, fi.Category.ID)
	}
	return ids
}

// QueryAuth exchanges the auth_code from the authorization redirect.
func (c *Client) QueryAuth(ctx context.Context, componentToken, authCode string) (AuthorizationInfo, error) {
	var out struct {
		Info struct {
			AppID        string   `json:"authorizer_appid"`
			AccessToken  string   `json:"authorizer_access_token"`
			ExpiresIn    int64    `json:"expires_in"`
			RefreshToken string   `json:"authorizer_refresh_token"`
			FuncInfo     funcInfo `json:"func_info"`
		} `json:"authorization_info"`
	}
	_, err := c.component(ctx, "/cgi-bin/component/api_query_auth", componentToken,
		map[string]any{"authorization_code": authCode}, &out, "authorization_info.authorizer_appid", &out.Info.AppID)
	if err != nil {
		return AuthorizationInfo{}, err
	}
	return AuthorizationInfo{
		AuthorizerAppID: out.Info.AppID,
		AccessToken:     out.Info.AccessToken,
		RefreshToken:    out.Info.RefreshToken,
		ExpiresIn:       seconds(out.Info.ExpiresIn),
		FuncScopeIDs:    out.Info.FuncInfo.ids(),
	}, nil
}

// AuthorizerToken is a fresh access token for one authorized account.
type AuthorizerToken struct {
	AccessToken  string
	ExpiresIn    time.Duration
	RefreshToken string
}

// AuthorizerToken refreshes an authorizer access token. Doing so invalidates the
// previous token for that account, so only one process may call it at a time.
func (c *Client) AuthorizerToken(ctx context.Context, componentToken, authorizerAppID, refreshToken string) (AuthorizerToken, error) {
	var out struct {
		AccessToken  string `json:"authorizer_access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"authorizer_refresh_token"`
	}
	_, err := c.component(ctx, "/cgi-bin/component/api_authorizer_token", componentToken, map[string]any{
		"authorizer_appid":         authorizerAppID,
		"authorizer_refresh_token": refreshToken,
	}, &out, "authorizer_access_token", &out.AccessToken)
	if err != nil {
		return AuthorizerToken{}, err
	}
	return AuthorizerToken{AccessToken: out.AccessToken, ExpiresIn: seconds(out.ExpiresIn), RefreshToken: out.RefreshToken}, nil
}

// AuthorizerListItem is one account that has authorized the platform.
type AuthorizerListItem struct {
	AppID        string
	RefreshToken string // empty if the authorization code was never exchanged
	AuthTime     time.Time
}

// AuthorizerListPage is one page of api_get_authorizer_list.
type AuthorizerListPage struct {
	TotalCount int
	List       []AuthorizerListItem
}

// AuthorizerList reads one page; it is also how lost refresh tokens are recovered.
func (c *Client) AuthorizerList(ctx context.Context, componentToken string, offset, count int) (AuthorizerListPage, error) {
	if count < 1 || count > MaxAuthorizerListCount {
		return AuthorizerListPage{}, fmt.Errorf("wechat: authorizer list count %d out of range 1..%d", count, MaxAuthorizerListCount)
	}
	if offset < 0 {
		return AuthorizerListPage{}, fmt.Errorf("wechat: negative authorizer list offset %d", offset)
	}
	var out struct {
		TotalCount int `json:"total_count"`
		List       []struct {
			AppID        string `json:"authorizer_appid"`
			RefreshToken string `json:"refresh_token"`
			AuthTime     int64  `json:"auth_time"`
		} `json:"list"`
	}
	_, err := c.component(ctx, "/cgi-bin/component/api_get_authorizer_list", componentToken,
		map[string]any{"offset": offset, "count": count}, &out, "", nil)
	if err != nil {
		return AuthorizerListPage{}, err
	}
	page := AuthorizerListPage{TotalCount: out.TotalCount, List: make([]AuthorizerListItem, 0, len(out.List))}
	for _, it := range out.List {
		item := AuthorizerListItem{AppID: it.AppID, RefreshToken: it.RefreshToken}
		if it.AuthTime > 0 {
			item.AuthTime = time.Unix(it.AuthTime, 0)
		}
		page.List = append(page.List, item)
	}
	return page, nil
}

// WalkAuthorizers reads the authorizer list page by page and hands each page
// to fn before it reads the next, so that a walk over a million accounts
// holds one page, not the list. read reads the page at an offset (a caller
// may run each under a fresh token). The walk ends at an empty page or once
// the total is reached, and stops at the first error (from read or fn),
// because retrying a page with an expired token is how other SDKs loop
// forever; an error from fn is returned as it is, so fn can stop a walk
// early with an error of its own.
func WalkAuthorizers(read func(offset int) (AuthorizerListPage, error), fn func([]AuthorizerListItem) error) error {
	offset := 0
	for {
		page, err := read(offset)
		if err != nil {
			return err
		}
		if len(page.List) == 0 {
			return nil
		}
		if err := fn(page.List); err != nil {
			return err
		}
		offset += len(page.List)
		if offset >= page.TotalCount {
			return nil
		}
	}
}

// Category is one Mini Program service category.
type Category struct {
	First  string `json:"first"`
	Second string `json:"second"`
}

// AuthorizerInfo describes an authorized account. Raw keeps the whole reply
// because WeChat keeps adding fields this struct does not model.
type AuthorizerInfo struct {
	AppID         string
	NickName      string
	HeadImg       string
	UserName      string
	PrincipalName string
	Signature     string
	ServiceType   int
	VerifyType    int
	AccountStatus int
	RegisterType  int
	IsMiniProgram bool // MiniProgramInfo is present only for Mini Programs
	Categories    []Category
	Raw           json.RawMessage
	// RefreshToken is the authorizer refresh token the reply repeats in
	// authorization_info: a secret, stored encrypted, never logged.
	RefreshToken string
}

// AuthorizerInfo fetches the profile of one authorized account.
func (c *Client) AuthorizerInfo(ctx context.Context, componentToken, authorizerAppID string) (AuthorizerInfo, error) {
	var out struct {
		Info struct {
			NickName      string `json:"nick_name"`
			HeadImg       string `json:"head_img"`
			UserName      string `json:"user_name"`
			PrincipalName string `json:"principal_name"`
			Signature     string `json:"signature"`
			ServiceType   struct {
				ID int `json:"id"`
			} `json:"service_type_info"`
			VerifyType struct {
				ID int `json:"id"`
			} `json:"verify_type_info"`
			AccountStatus int `json:"account_status"`
			RegisterType  int `json:"register_type"`
			MiniProgram   *struct {
				Categories []Category `json:"categories"`
			} `json:"MiniProgramInfo"`
		} `json:"authorizer_info"`
		Authorization struct {
			AppID        string `json:"authorizer_appid"`
			RefreshToken string `json:"authorizer_refresh_token"`
		} `json:"authorization_info"`
	}
	raw, err := c.component(ctx, "/cgi-bin/component/api_get_authorizer_info", componentToken,
		map[string]any{"authorizer_appid": authorizerAppID}, &out, "", nil)
	if err != nil {
		return AuthorizerInfo{}, err
	}
	info := AuthorizerInfo{
		AppID:         out.Authorization.AppID,
		NickName:      out.Info.NickName,
		HeadImg:       out.Info.HeadImg,
		UserName:      out.Info.UserName,
		PrincipalName: out.Info.PrincipalName,
		Signature:     out.Info.Signature,
		ServiceType:   out.Info.ServiceType.ID,
		VerifyType:    out.Info.VerifyType.ID,
		AccountStatus: out.Info.AccountStatus,
		RegisterType:  out.Info.RegisterType,
		IsMiniProgram: out.Info.MiniProgram != nil,
		Raw:           json.RawMessage(bytes.Clone(raw)),
		RefreshToken:  out.Authorization.RefreshToken,
	}
	if info.AppID == "" {
		info.AppID = authorizerAppID
	}
	if out.Info.MiniProgram != nil {
		info.Categories = out.Info.MiniProgram.Categories
	}
	return info, nil
}
