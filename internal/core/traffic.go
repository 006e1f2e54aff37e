package core

import (
	"context"
)

// AuthorizerTokens hands out a valid authorizer access token for a Mini
// Program, refreshing it (by one process at a time across every instance)
// shortly before it expires.
type AuthorizerTokens interface {
	AuthorizerAccessToken(ctx context.Context, appID string) (string, error)
	// InvalidateAuthorizerToken forgets a token WeChat rejected (40001, 40014,
	// 42001) so the next call refreshes; token guards against forgetting a newer one.
	InvalidateAuthorizerToken(ctx context.Context, appID, token string) error
}

// Action is what an attempt asks WeChat to do.
type Action string

// The two traffic-master actions.
const (
	ActionCheck Action = "check" // agency_check_can_open_publisher
	ActionOpen  Action = "open"  // agency_create_publisher
)

// AttemptRequest asks for one audited call for one Mini Program.
type AttemptRequest struct {
	AppID  string
	Action Action
	Staff  *Staff
	// RunID is set when the attempt is part of a bulk run.
	RunID *int64
	Meta  Meta
}
