// Package wechatsim is a local stand-in for api.weixin.qq.com and the
// mp.weixin.qq.com authorization page, for tests and demos.
package wechatsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Config configures a Sim.
type Config struct {
	ComponentAppID     string
	ComponentAppSecret string
	Token              string // push verification token
	EncodingAESKey     string
	TokenTTL           time.Duration // default 7200s
	EventURL           string        // the console's push URL; "" = don't push
	PushInterval       time.Duration // default 10m
	HTTPClient         *http.Client
	Now                func() time.Time
	Logger             *slog.Logger
}

// Authorizer is an account that has authorized the simulated platform.
type Authorizer struct {
	AppID         string
	NickName      string
	HeadImg       string
	PrincipalName string
	UserName      string
	Signature     string
	MiniProgram   bool
	AccountStatus int // 1 normal, 14 deregistered, 16 banned, 18 warned, 19 frozen
	RefreshToken  string
	AuthTime      time.Time
	Categories    []wechat.Category
}

// Behavior scripts how one Mini Program answers one operationams action.
type Behavior struct {
	Ret        int
	Shape      string // "ret" (default) or "errcode"
	Status     int    // for the check: 1 can open, 0 cannot
	Delay      time.Duration
	Hang       bool // block until the request context ends
	HTTPStatus int  // reply with this status and an HTML body
	Garbage    bool // 200 with a non-JSON body
	Times      int  // apply to the next N calls only; 0 = always
}

// Call records one operationams request that reached the simulator.
type Call struct {
	Action string
	AppID  string
	At     time.Time
}

type authToken struct {
	appID   string
	expires time.Time
}

type authCode struct {
	appID   string
	expires time.Time
}

type scriptKey struct{ appID, action string }

type script struct {
	b         Behavior
	remaining int
}

// Sim is safe for concurrent use.
type Sim struct {
	cfg     Config
	crypter *wechat.Crypter
	log     *slog.Logger

	mu          sync.Mutex
	tickets     []string // newest first, at most two
	compTokens  map[string]time.Time
	authTokens  map[string]authToken
	latestAuth  map[string]string // appID → newest authorizer token
	authorizers map[string]*Authorizer
	order       []string
	preAuth     map[string]time.Time
	authCodes   map[string]authCode
	scripts     map[scriptKey]*script
	gates       []*Gate
	opened      map[string]bool
	ams         amsSim // the ad operations' state (ams_state.go)
	calls       []Call
	compIssued  int
	authIssued  int
	seq         int
	dataGen     uint64              // changes the kept sums depend on (ams_kept.go)
	keptSums    map[keptKey]keptSum // provider-wide sums between pages
}

// New validates cfg and builds a Sim.
func New(cfg Config) (*Sim, error) {
	if cfg.ComponentAppID == "" || cfg.ComponentAppSecret == "" {
		return nil, errors.New("wechatsim: component appid and secret are required")
	}
	cr, err := wechat.NewCrypter(cfg.Token, cfg.EncodingAESKey, "", cfg.ComponentAppID)
	if err != nil {
		return nil, fmt.Errorf("wechatsim: %w", err)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 7200 * time.Second
	}
	if cfg.PushInterval <= 0 {
		cfg.PushInterval = 10 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sim{
		cfg:         cfg,
		crypter:     cr,
		log:         log,
		compTokens:  map[string]time.Time{},
		authTokens:  map[string]authToken{},
		latestAuth:  map[string]string{},
		authorizers: map[string]*Authorizer{},
		preAuth:     map[string]time.Time{},
		authCodes:   map[string]authCode{},
		scripts:     map[scriptKey]*script{},
		opened:      map[string]bool{},
	}, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AddAuthorizer registers an authorized account, generating a refresh token if empty.
func (s *Sim) AddAuthorizer(a Authorizer) {
	if a.RefreshToken == "" {
		a.RefreshToken = "refreshtoken@@@" + randHex(24)
	}
	s.addAuthorizer(a)
}

func (s *Sim) addAuthorizer(a Authorizer) {
	if a.AuthTime.IsZero() {
		a.AuthTime = s.cfg.Now()
	}
	if a.AccountStatus == 0 {
		a.AccountStatus = 1
	}
	if a.UserName == "" {
		a.UserName = "gh_" + randHex(6)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.authorizers[a.AppID]; !ok {
		s.order = append(s.order, a.AppID)
	}
	s.authorizers[a.AppID] = &a
	s.dataChanged()
}

// Authorizer returns a copy of a registered account.
func (s *Sim) Authorizer(appID string) (Authorizer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authorizers[appID]
	if !ok {
		return Authorizer{}, false
	}
	return *a, true
}

// RemoveAuthorizer unbinds an account: it leaves the list and its tokens stop working.
func (s *Sim) RemoveAuthorizer(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authorizers, appID)
	delete(s.latestAuth, appID)
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == appID })
	s.dataChanged()
}

// Unauthorize removes the account and pushes the unauthorized event WeChat would send.
func (s *Sim) Unauthorize(ctx context.Context, appID string) error {
	s.RemoveAuthorizer(appID)
	return s.PushEvent(ctx, s.eventXML("unauthorized", "<AuthorizerAppid><![CDATA["+appID+"]]></AuthorizerAppid>"))
}

// Script sets how appID answers action; Times limits it to the next N calls.
func (s *Sim) Script(appID, action string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[scriptKey{appID, action}] = &script{b: b, remaining: b.Times}
}

// Calls counts operationams requests for action and appID that reached the simulator.
func (s *Sim) Calls(action, appID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Action == action && c.AppID == appID {
			n++
		}
	}
	return n
}

// CallLog returns every operationams request in arrival order.
func (s *Sim) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// TokenIssues reports how many tokens were issued, to measure upstream refreshes.
func (s *Sim) TokenIssues() (component, authorizer int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compIssued, s.authIssued
}

// ExpireTokens makes every issued access token expired now.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.cfg.Now().Add(-time.Second)
	for k := range s.compTokens {
		s.compTokens[k] = past
	}
	for k, t := range s.authTokens {
		t.expires = past
		s.authTokens[k] = t
	}
}

// CurrentTicket returns the newest verify ticket, for setups without an event URL.
func (s *Sim) CurrentTicket() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tickets) == 0 {
		return ""
	}
	return s.tickets[0]
}

// Opened reports whether the traffic master was opened for appID.
func (s *Sim) Opened(appID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened[appID]
}

// Run pushes a ticket now and then every PushInterval until ctx ends.
func (s *Sim) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PushInterval)
	defer t.Stop()
	for {
		if err := s.PushTicket(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("wechatsim: ticket push failed; will retry next interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Sim) eventXML(infoType, extra string) []byte {
	return fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[%s]]></InfoType>%s</xml>",
		s.cfg.ComponentAppID, s.cfg.Now().Unix(), infoType, extra)
}

// PushTicket issues a new ticket (the previous stays valid) and pushes it.
func (s *Sim) PushTicket(ctx context.Context) error {
	ticket := "ticket@@@" + randHex(32)
	s.mu.Lock()
	s.tickets = append([]string{ticket}, s.tickets...)
	if len(s.tickets) > 2 {
		s.tickets = s.tickets[:2]
	}
	s.mu.Unlock()
	return s.PushEvent(ctx, s.eventXML("component_verify_ticket", "<ComponentVerifyTicket><![CDATA["+ticket+"]]></ComponentVerifyTicket>"))
}

// PushEvent encrypts eventXML and posts it to EventURL, expecting "success".
func (s *Sim) PushEvent(ctx context.Context, eventXML []byte) error {
	if s.cfg.EventURL == "" {
		return nil
	}
	q, body, err := s.crypter.Seal(eventXML, strconv.FormatInt(s.cfg.Now().Unix(), 10), randHex(8))
	if err != nil {
		return err
	}
	u, err := url.Parse(s.cfg.EventURL)
	if err != nil {
		return fmt.Errorf("wechatsim: event URL: %w", err)
	}
	merged := u.Query()
	for k, v := range q {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("wechatsim: push: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(reply)) != "success" {
		return fmt.Errorf("wechatsim: push not acknowledged: HTTP %d %q", resp.StatusCode, reply)
	}
	return nil
}

// pushAsync mirrors WeChat, which pushes independently of the API call that caused it.
func (s *Sim) pushAsync(what string, f func(ctx context.Context) error) {
	if s.cfg.EventURL == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			s.log.Warn("wechatsim: push failed", "event", what, "err", err)
		}
	}()
}
