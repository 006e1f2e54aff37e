package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// MaxPushSkew is how far a push's CreateTime may be from its arrival.
const MaxPushSkew = 10 * time.Minute

// ErrRejected wraps every reason a push is refused (bad signature, wrong
// appid, garbage); the receiver answers 4xx and stores nothing.
var ErrRejected = errors.New("push rejected")

// Config wires a Service.
type Config struct {
	Store   Store
	WeChat  *wechat.Client
	Crypter *wechat.Crypter
	Tokens  *TokenManager
	// LoginPageBase hosts the authorization page (mp.weixin.qq.com).
	LoginPageBase string
	// InfoConcurrency bounds parallel api_get_authorizer_info calls (default 4).
	InfoConcurrency int
	// InfoMaxAge makes sync re-read an unchanged account's profile after this long (default 24h).
	InfoMaxAge time.Duration
	Log        *slog.Logger
	Now        func() time.Time
}

// Service receives pushes, syncs authorizers and onboards accounts.
type Service struct {
	cfg    Config
	appID  string
	syncMu sync.Mutex
}

// New builds a Service, defaulting what is optional.
func New(cfg Config) *Service {
	if cfg.InfoConcurrency <= 0 {
		cfg.InfoConcurrency = 4
	}
	if cfg.InfoMaxAge <= 0 {
		cfg.InfoMaxAge = 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, appID: cfg.WeChat.ComponentAppID()}
}

// Tokens returns the token manager the service uses.
func (s *Service) Tokens() *TokenManager { return s.cfg.Tokens }

// ComponentAppID is the platform this service runs.
func (s *Service) ComponentAppID() string { return s.appID }

// decodedEvent is the JSON kept beside the raw push; secrets are left out.
type decodedEvent struct {
	AppID                        string    `json:"app_id"`
	InfoType                     string    `json:"info_type"`
	CreateTime                   time.Time `json:"create_time"`
	AuthorizerAppID              string    `json:"authorizer_appid,omitempty"`
	AuthorizationCodeExpiredTime time.Time `json:"authorization_code_expired_time,omitzero"`
	HasTicket                    bool      `json:"has_ticket,omitempty"`
	HasAuthorizationCode         bool      `json:"has_authorization_code,omitempty"`
}

// HandlePush verifies, decrypts, stores and applies one push. It returns nil
// only once the event is stored (or was stored by an earlier retry).
func (s *Service) HandlePush(ctx context.Context, query url.Values, body []byte) error {
	ev, err := s.cfg.Crypter.Open(query, body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	// WeChat stamps a push when it sends it and retries within minutes: a
	// CreateTime far from now is a replay or a broken clock, never news.
	now := s.cfg.Now()
	if skew := now.Sub(ev.CreateTime); !ev.CreateTime.IsZero() && (skew > MaxPushSkew || skew < -MaxPushSkew) {
		return fmt.Errorf("%w: CreateTime %s is more than %s from now", ErrRejected, ev.CreateTime.UTC().Format(time.RFC3339), MaxPushSkew)
	}
	dec, err := json.Marshal(decodedEvent{
		AppID: ev.AppID, InfoType: ev.InfoType, CreateTime: ev.CreateTime, AuthorizerAppID: ev.AuthorizerAppID,
		AuthorizationCodeExpiredTime: ev.AuthorizationCodeExpiredTime,
		HasTicket:                    ev.ComponentVerifyTicket != "", HasAuthorizationCode: ev.AuthorizationCode != "",
	})
	if err != nil {
		// Only absurd times fail to encode; such a push is garbage.
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	// Retries re-encrypt with a new random prefix but carry the same message.
	sum := sha256.Sum256(append([]byte(s.appID+"\x00"), ev.Raw...))
	stored := Event{
		ComponentAppID: s.appID, InfoType: ev.InfoType, AuthorizerAppID: ev.AuthorizerAppID,
		CreateTime: ev.CreateTime, ReceivedAt: now, DedupeKey: hex.EncodeToString(sum[:]),
		RawBody: string(body), DecryptedXML: RedactPushXML(string(ev.Raw)), Decoded: dec, Ticket: ev.ComponentVerifyTicket,
	}
	inserted, err := s.cfg.Store.RecordEvent(ctx, stored)
	if err != nil {
		return err
	}
	s.cfg.Log.Info("wechat push", "info_type", ev.InfoType, "authorizer_appid", ev.AuthorizerAppID, "duplicate", !inserted)
	if inserted && (ev.InfoType == "authorized" || ev.InfoType == "updateauthorized") && ev.AuthorizerAppID != "" {
		// Best effort within WeChat's 5-second patience: the account's profile.
		// The authorization code is left to the redirect (it is single use);
		// a lost refresh token is recovered by the next sync.
		ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := s.fetchInfo(ictx, ev.AuthorizerAppID); err != nil {
			s.cfg.Log.Warn("authorizer info after push failed; sync will retry", "appid", ev.AuthorizerAppID, "err", err)
		}
	}
	return nil
}

// EnsureTicket asks WeChat to push a ticket now when none is stored, so a
// first start does not wait ten minutes.
func (s *Service) EnsureTicket(ctx context.Context) error {
	st, err := s.cfg.Store.Status(ctx, s.appID)
	if err != nil {
		return err
	}
	if !st.TicketAt.IsZero() {
		return nil
	}
	return s.cfg.WeChat.StartPushTicket(ctx)
}

// Status reports the platform's state for the admin page.
func (s *Service) Status(ctx context.Context) (Status, error) {
	return s.cfg.Store.Status(ctx, s.appID)
}

// AuthorizationLinks are the two forms of WeChat's authorization page for
// one single-use pre-auth code.
type AuthorizationLinks struct {
	// Desktop is the page opened from the console; WeChat checks that the
	// browser comes from the platform's own domain (the Referer).
	Desktop string
	// Mobile is the page opened inside WeChat on a phone.
	Mobile string
	// ExpiresAt is when the pre-auth code stops working.
	ExpiresAt time.Time
}

// AuthorizationLink creates a pre-auth code and the URLs of WeChat's page
// where a merchant authorizes the platform for a Mini Program.
func (s *Service) AuthorizationLink(ctx context.Context, redirectURI string) (AuthorizationLinks, error) {
	var code string
	var ttl time.Duration
	err := s.cfg.Tokens.WithComponentToken(ctx, func(tok string) error {
		var err error
		code, ttl, err = s.cfg.WeChat.CreatePreAuthCode(ctx, tok)
		return err
	})
	if err != nil {
		return AuthorizationLinks{}, err
	}
	return AuthorizationLinks{
		Desktop:   wechat.AuthorizationURL(s.cfg.LoginPageBase, s.appID, code, redirectURI, 2),
		Mobile:    wechat.MobileAuthorizationURL(s.cfg.LoginPageBase, s.appID, code, redirectURI, 2),
		ExpiresAt: s.cfg.Now().Add(ttl),
	}, nil
}

// CompleteAuthorization exchanges the auth_code of the redirect back from
// WeChat, stores the account with its refresh token and reads its profile.
func (s *Service) CompleteAuthorization(ctx context.Context, authCode string) (string, error) {
	authCode = strings.TrimSpace(authCode)
	if authCode == "" {
		return "", core.Errorf(core.EINVALID, "The authorization code is missing.")
	}
	var info wechat.AuthorizationInfo
	err := s.cfg.Tokens.WithComponentToken(ctx, func(tok string) error {
		var err error
		info, err = s.cfg.WeChat.QueryAuth(ctx, tok, authCode)
		return err
	})
	if err != nil {
		return "", err
	}
	now := s.cfg.Now()
	var access *Token
	if info.AccessToken != "" {
		access = &Token{Value: info.AccessToken, ExpiresAt: now.Add(info.ExpiresIn)}
	}
	if err := s.cfg.Store.SaveAuthorization(ctx, s.appID, info.AuthorizerAppID, info.RefreshToken, now, access); err != nil {
		return "", err
	}
	if err := s.fetchInfo(ctx, info.AuthorizerAppID); err != nil {
		s.cfg.Log.Warn("authorizer info after authorization failed; sync will retry", "appid", info.AuthorizerAppID, "err", err)
	}
	return info.AuthorizerAppID, nil
}

// fetchInfo reads and stores one account's profile; 61003 means it left.
func (s *Service) fetchInfo(ctx context.Context, appID string) error {
	var info wechat.AuthorizerInfo
	err := s.cfg.Tokens.WithComponentToken(ctx, func(tok string) error {
		var err error
		info, err = s.cfg.WeChat.AuthorizerInfo(ctx, tok, appID)
		return err
	})
	if code, ok := wechat.CodeOf(err); ok && code == 61003 {
		return s.cfg.Store.Revoke(ctx, appID, "not authorized (61003)", s.cfg.Now())
	}
	if err != nil {
		return err
	}
	if info.AppID == "" {
		info.AppID = appID
	}
	CleanProfile(&info)
	return s.cfg.Store.SaveAuthorizerInfo(ctx, s.appID, info, s.cfg.Now())
}

// Sync pages through api_get_authorizer_list, recovers lost refresh tokens,
// reads the profile of new, changed or stale accounts with bounded
// concurrency and marks accounts that left as revoked (never deleting them).
// Concurrent calls in one process run one after the other.
func (s *Service) Sync(ctx context.Context) (SyncResult, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	var res SyncResult
	if err := s.cfg.Store.SyncStarted(ctx, s.appID, s.cfg.Now()); err != nil {
		return res, err
	}
	res, err := s.sync(ctx)
	msg := res.String()
	if err != nil {
		msg = "sync failed: " + err.Error()
	}
	// Recorded even when ctx ended, so the page never shows a sync running forever.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ferr := s.cfg.Store.SyncFinished(fctx, s.appID, s.cfg.Now(), err == nil, msg, res); ferr != nil && err == nil {
		err = ferr
	}
	s.cfg.Log.Info("authorizer sync", "ok", err == nil, "listed", res.Listed, "new", res.New, "info_fetched", res.InfoFetched,
		"recovered", res.Recovered, "revoked", res.Revoked, "failed", res.Failed)
	return res, err
}

func (s *Service) sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	// What is stored is read before the list is asked for, so anything a
	// push changes while the list is on its way is newer than both: an
	// account authorized meanwhile is not in known, and is not revoked for
	// missing from the list; one revoked meanwhile is not written back from
	// the list (SyncAuthorization).
	known, err := loadKnown(ctx, s.cfg.Store, s.appID)
	if err != nil {
		return res, err
	}
	now := s.cfg.Now()
	// Each page is compared, written and its profiles read before the next
	// is asked for: memory holds one page of the list, whatever its length.
	err = wechat.WalkAuthorizers(func(offset int) (wechat.AuthorizerListPage, error) {
		var page wechat.AuthorizerListPage
		err := s.cfg.Tokens.WithComponentToken(ctx, func(tok string) error {
			var err error
			page, err = s.cfg.WeChat.AuthorizerList(ctx, tok, offset, wechat.MaxAuthorizerListCount)
			return err
		})
		return page, err
	}, func(list []wechat.AuthorizerListItem) error {
		res.Listed += len(list)
		toFetch, err := s.syncPage(ctx, known, list, now, &res)
		if err != nil {
			return err
		}
		s.fetchInfos(ctx, toFetch, &res)
		return ctx.Err()
	})
	if err != nil {
		return res, err
	}
	err = known.unlisted(func(id string, st knownAccount) error {
		if st.revoked {
			return nil
		}
		if err := s.cfg.Store.Revoke(ctx, id, "not in the authorizer list", now); err != nil {
			return err
		}
		res.Revoked++
		return nil
	})
	if err != nil {
		return res, err
	}
	st, err := s.cfg.Store.Status(ctx, s.appID)
	if err == nil {
		res.MiniPrograms = st.MiniPrograms
	}
	return res, err
}

// syncPage writes what one page of the list changed and returns the accounts
// whose profiles are to be read: new, changed, or not read for InfoMaxAge.
func (s *Service) syncPage(ctx context.Context, known *knownAccounts, list []wechat.AuthorizerListItem, now time.Time, res *SyncResult) ([]string, error) {
	var toFetch []string
	for _, it := range list {
		st, ok := known.find(it.AppID)
		if !ok {
			st = &knownAccount{}
		}
		st.listed = true
		changed := !ok || st.revoked || st.authTime != micros(it.AuthTime)
		recovered := false
		if it.RefreshToken != "" && known.tokenHash(it.RefreshToken) != st.token {
			recovered = ok && st.token == 0 && !st.revoked
			changed = true
		}
		if changed {
			// Without a token in the list, the stored one is kept.
			saved, err := s.cfg.Store.SyncAuthorization(ctx, s.appID, it.AppID, it.RefreshToken, it.AuthTime, ok && st.revoked)
			if err != nil {
				return nil, err
			}
			if !saved {
				continue // a push came meanwhile and stands
			}
		}
		// Counted once written: what a push changed meanwhile is not the sync's.
		if !ok {
			res.New++
		}
		if recovered {
			res.Recovered++
		}
		if changed || st.infoSynced == 0 || now.Sub(time.UnixMicro(st.infoSynced)) > s.cfg.InfoMaxAge {
			toFetch = append(toFetch, it.AppID)
		}
	}
	return toFetch, nil
}

// fetchInfos reads and stores the profiles of ids, InfoConcurrency at a
// time; a failure is counted and logged, and the others go on.
func (s *Service) fetchInfos(ctx context.Context, ids []string, res *SyncResult) {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.InfoConcurrency)
	for _, id := range ids {
		g.Go(func() error {
			err := s.fetchInfo(gctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failed++
				s.cfg.Log.Warn("authorizer info failed", "appid", id, "err", err)
				return nil
			}
			res.InfoFetched++
			return nil
		})
	}
	_ = g.Wait()
}
