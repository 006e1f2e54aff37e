// Package ams manages the ads of opened Mini Programs through WeChat's
// traffic-master agency actions: ad units, cover ads, blocked advertisers and
// industries, and the custom share ratio. Reads are kept as snapshots with
// the time they were fetched and refreshed on demand; every write goes
// through the traffic service's one audited attempt path.
package ams

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// WeChat is the part of the WeChat client the ad operations call.
type WeChat interface {
	AllAdUnits(ctx context.Context, authorizerAccessToken, adSlot string) ([]wechat.AdUnit, error)
	CreateAdUnit(ctx context.Context, authorizerAccessToken string, n wechat.NewAdUnit) (string, error)
	UpdateAdUnit(ctx context.Context, authorizerAccessToken string, u wechat.AdUnitUpdate) error
	GetAdUnitCode(ctx context.Context, authorizerAccessToken, adUnitID string) (string, error)
	GetAgencyAdUnitList(ctx context.Context, authorizerAccessToken string, q wechat.CustomTemplateQuery) (wechat.CustomTemplateList, error)
	GetCoverAdposStatus(ctx context.Context, authorizerAccessToken string) (wechat.CoverStatus, error)
	SetCoverAdposStatus(ctx context.Context, authorizerAccessToken string, on bool) error
	GetCoverAdposScene(ctx context.Context, authorizerAccessToken string) (wechat.SceneList, error)
	SetCoverAdposScene(ctx context.Context, authorizerAccessToken string, scenes wechat.SceneList) error
	GetBlackList(ctx context.Context, authorizerAccessToken string) (wechat.BlackList, error)
	SetBlackList(ctx context.Context, authorizerAccessToken string, add bool, entries []wechat.BlockEntry) error
	GetAmsCategoryBlacklist(ctx context.Context, authorizerAccessToken string) ([]string, error)
	SetAmsCategoryBlacklist(ctx context.Context, authorizerAccessToken string, categories []string) error
	GetShareRatio(ctx context.Context, componentToken, appID string) (int, error)
	GetCustomShareRatio(ctx context.Context, componentToken, appID string) (ratio int, set bool, err error)
	SetCustomShareRatio(ctx context.Context, componentToken, appID string, ratio int) error
	SetShareRatio(ctx context.Context, componentToken string, ratio int) error
}

var _ WeChat = (*wechat.Client)(nil)

// Writer makes one audited write: the traffic service.
type Writer interface {
	Write(ctx context.Context, req traffic.WriteRequest) (*traffic.Attempt, error)
}

// Store keeps the snapshots of what WeChat last said.
type Store interface {
	// Snapshot returns the stored body of kind for appID; ok is false when none is stored.
	Snapshot(ctx context.Context, appID, kind string) (body []byte, fetchedAt time.Time, ok bool, err error)
	// PutSnapshot stores (replaces) the body of kind for appID.
	PutSnapshot(ctx context.Context, appID, kind string, body []byte, fetchedAt time.Time) error
	// ForgetSnapshot drops kinds for appID, so the next read fetches them.
	ForgetSnapshot(ctx context.Context, appID string, kinds ...string) error
}

// Tokens hands out authorizer tokens and runs calls with the component token.
type Tokens interface {
	traffic.AuthorizerTokens
	traffic.ComponentTokens
}

// Service reads and writes the ad operations of Mini Programs.
type Service struct {
	Store  Store
	WeChat WeChat
	Tokens Tokens
	Writer Writer
	// ComponentAppID is the platform's own appid: get_share_ratio with it
	// reads the platform's default ratio.
	ComponentAppID string
	// Security records changes that belong to no account (the default ratio).
	Security core.SecurityLog
	Log      *slog.Logger
	// Now replaces the clock.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Request says who asks for a write, for which Mini Program, and how it is paced.
type Request struct {
	AppID string
	Staff *core.Staff
	// RunID is set when the write is part of a bulk run.
	RunID *int64
	Meta  core.Meta
	// Pace, when set, waits for a rate slot right before each call (bulk runs).
	Pace func(ctx context.Context) error
}

func (r Request) write(action traffic.Action, params any, send func(ctx context.Context, token string) ([]byte, error)) traffic.WriteRequest {
	return traffic.WriteRequest{AppID: r.AppID, Action: action, Params: params, Staff: r.Staff, RunID: r.RunID, Meta: r.Meta, Pace: r.Pace, Send: send}
}

// Snapshot is what WeChat last said about one thing, and when.
type Snapshot[T any] struct {
	Value     T
	FetchedAt time.Time
	// Err is set when a refresh failed and Value is the older snapshot (or
	// zero when there was none): the page says so rather than showing it as fresh.
	Err error
}

// Snapshot kinds.
const (
	KindUnits     = "units"
	KindTemplates = "templates"
	KindCover     = "cover"     // status and scenes
	KindBlocklist = "blocklist" // advertisers and industries
	KindRatio     = "share_ratio"
)

// read returns kind's stored snapshot, or fetches, stores and returns a new
// one when none is stored or refresh is asked. A failed fetch returns the
// older snapshot with the error.
func read[T any](ctx context.Context, s *Service, appID, kind string, refresh bool, fetch func(ctx context.Context) (T, error)) (Snapshot[T], error) {
	var snap Snapshot[T]
	body, at, ok, err := s.Store.Snapshot(ctx, appID, kind)
	if err != nil {
		return snap, err
	}
	if ok {
		if err := json.Unmarshal(body, &snap.Value); err != nil {
			ok = false // written by another version: fetch again
		} else {
			snap.FetchedAt = at
		}
	}
	if ok && !refresh {
		return snap, nil
	}
	v, err := fetch(ctx)
	if err != nil {
		snap.Err = err
		return snap, nil
	}
	now := s.now()
	if body, err := json.Marshal(v); err == nil {
		if perr := s.Store.PutSnapshot(ctx, appID, kind, body, now); perr != nil {
			s.log().Warn("store ad-operation snapshot", "appid", appID, "kind", kind, "err", perr)
		}
	}
	return Snapshot[T]{Value: v, FetchedAt: now}, nil
}

// withToken runs fn with the account's authorizer token (refreshed once when WeChat rejects it).
func (s *Service) withToken(ctx context.Context, appID string, fn func(token string) error) error {
	return traffic.WithAuthorizerToken(ctx, s.Tokens, appID, s.log(), fn)
}

// forget drops snapshots a successful write made stale.
func (s *Service) forget(ctx context.Context, a *traffic.Attempt, kinds ...string) {
	if a == nil || a.Status != traffic.AttemptCompleted || a.Outcome == traffic.OutcomeNotSent {
		return
	}
	// A write WeChat may have applied (success, unknown, even most refusals)
	// makes the stored snapshot doubtful: read it again next time.
	if err := s.Store.ForgetSnapshot(context.WithoutCancel(ctx), a.AppID, kinds...); err != nil {
		s.log().Warn("forget ad-operation snapshot", "appid", a.AppID, "err", err)
	}
}
