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
