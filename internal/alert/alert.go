// Package alert tells staff outside the console that something needs them: a
// run finished or paused itself, an account needs the merchant, the platform
// cannot reach WeChat. Admins configure targets (a WeChat Work group robot, a
// DingTalk robot, a signed webhook); each event becomes one delivery per
// target, sent by a queue job that retries with backoff.
package alert

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// EventKind names what happened.
type EventKind string

// The events a target can receive, and the test an admin sends by hand.
const (
	EventRunFinished   EventKind = "run_finished"
	EventRunPaused     EventKind = "run_paused"
	EventNeedsMerchant EventKind = "needs_merchant"
	EventPlatformError EventKind = "platform_error"
	EventTest          EventKind = "test"
)

// EventInfo describes an event kind to admins choosing what a target receives.
type EventInfo struct {
	Kind  EventKind
	Label string
	Help  string
}

// Events lists the kinds a target can subscribe to, in display order.
var Events = []EventInfo{
	{EventRunFinished, "A run finished", "A bulk run called every account; the alert counts the outcomes."},
	{EventRunPaused, "A run paused itself", "WeChat answered a run with a platform-wide error (48001, 2056, 61004, 61007, 45009)."},
	{EventNeedsMerchant, "An account needs the merchant", "A check or open outside a run ended needing the merchant (at most one alert per account a day; runs count them in their own alert)."},
	{EventPlatformError, "A platform-wide error", "The platform's component token cannot be obtained (no ticket, a wrong secret, an IP not allowed); at most one alert an hour."},
}

// Event is one thing that happened, as it is stored and sent. Only the
// fields of its kind are set.
type Event struct {
	Kind EventKind `json:"kind"`
	// Path is the console page the event is about (/runs/12, /apps/wx…).
	Path string    `json:"path"`
	At   time.Time `json:"at"`
	// RunID and Action for the run events, with the run's figures when it finished.
	RunID         int64  `json:"run_id,omitempty"`
	Action        string `json:"action,omitempty"`
	Total         int    `json:"total,omitempty"`
	Succeeded     int    `json:"succeeded,omitempty"`
	NeedsMerchant int    `json:"needs_merchant,omitempty"`
	// AppID and Name for an account's event.
	AppID string `json:"appid,omitempty"`
	Name  string `json:"name,omitempty"`
	// Code and Message are WeChat's (or the error's) for a pause or an error.
	Code    *int   `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Dedupe, when set, drops the event if one with the same key was
	// recorded within DedupeFor: a failing token is reported once an hour,
	// not on every call.
	Dedupe    string        `json:"-"`
	DedupeFor time.Duration `json:"-"`
}

// TargetKind is where a target's alerts go.
type TargetKind string

// Target kinds.
const (
	KindWeCom    TargetKind = "wecom"
	KindDingTalk TargetKind = "dingtalk"
	KindWebhook  TargetKind = "webhook"
)

// Kinds lists the target kinds in display order.
var Kinds = []TargetKind{KindWeCom, KindDingTalk, KindWebhook}

// KindLabel names a target kind to staff (an English key, translated when shown).
func KindLabel(k TargetKind) string {
	switch k {
	case KindWeCom:
		return "WeChat Work group robot"
	case KindDingTalk:
		return "DingTalk robot"
	case KindWebhook:
		return "Signed webhook"
	}
	return string(k)
}

// Delivery statuses, as a target shows its latest.
const (
	StatusSent     = "sent"
	StatusRetrying = "retrying"
	StatusFailed   = "failed"
)

// Target is a configured destination as the settings page shows it: never
// its URL's secret parts nor its signing secret.
type Target struct {
	ID   int64
	Name string
	Kind TargetKind
	// URLShown is the URL's scheme and host: robot URLs carry their key.
	URLShown  string
	HasSecret bool
	Events    []EventKind
	Enabled   bool
	CreatedAt time.Time
	// The latest delivery's status (empty before any), error and time.
	LastStatus string
	LastError  string
	LastAt     *time.Time
	LastEvent  EventKind
}

// Receives reports whether the target is subscribed to k.
func (t Target) Receives(k EventKind) bool { return slices.Contains(t.Events, k) }

// NewTarget is what an admin enters to add a target.
type NewTarget struct {
	Name string
	Kind TargetKind
	URL  string
	// Secret is DingTalk's signing secret (optional); a webhook's is generated.
	Secret string
	Events []EventKind
}

// Dest is a target opened for sending: its whole URL and secret.
type Dest struct {
	TargetID int64
	Kind     TargetKind
	URL      string
	Secret   string
	Enabled  bool
}

// Delivery is one event for one target, as its job reads it.
type Delivery struct {
	ID     int64
	Event  Event
	Dest   Dest
	Status string // pending, sent or failed
}

// Result is what one try of a delivery came to.
type Result struct {
	// Status is StatusSent, StatusRetrying (another try follows) or StatusFailed.
	Status string
	// Error says what went wrong, free of the target's URL and secret.
	Error string
}

// Store keeps the targets; internal/postgres implements it.
type Store interface {
	Targets(ctx context.Context) ([]Target, error)
	// AddTarget seals url and secret and inserts t, setting its ID.
	AddTarget(ctx context.Context, t *Target, url, secret string, by *int64) error
	// SetTargetEnabled and DeleteTarget report false for a target not there.
	SetTargetEnabled(ctx context.Context, id int64, enabled bool) (bool, error)
	DeleteTarget(ctx context.Context, id int64) (bool, error)
	// EmitTest records e for the one target and queues its delivery.
	EmitTest(ctx context.Context, targetID int64, e Event) (bool, error)
}

// Service lets admins manage the targets.
type Service struct {
	Store Store
	// AllowLoopback accepts http:// URLs to this machine (dev and tests:
	// the console itself is not served over https).
	AllowLoopback bool
	Now           func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func mustAdmin(st *core.Staff) error {
	if st == nil || st.Role != core.RoleAdmin {
		return core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")
	}
	return nil
}

// Targets lists the targets, oldest first.
func (s *Service) Targets(ctx context.Context) ([]Target, error) { return s.Store.Targets(ctx) }

// AddTarget validates and stores a target. For a webhook it returns the
// signing secret it generated: shown once, never again.
func (s *Service) AddTarget(ctx context.Context, st *core.Staff, n NewTarget) (*Target, string, error) {
	if err := mustAdmin(st); err != nil {
		return nil, "", err
	}
	n.Name = strings.TrimSpace(n.Name)
	n.URL = strings.TrimSpace(n.URL)
	n.Secret = strings.TrimSpace(n.Secret)
	if n.Name == "" || len([]rune(n.Name)) > 100 {
		return nil, "", core.FieldError("name", "Give the target a name of at most 100 characters.")
	}
	if !slices.Contains(Kinds, n.Kind) {
		return nil, "", core.FieldError("kind", "Choose what kind of target this is.")
	}
	shown, err := ValidateURL(n.URL, s.AllowLoopback)
	if err != nil {
		return nil, "", err
	}
	var events []EventKind
	for _, e := range Events {
		if slices.Contains(n.Events, e.Kind) {
			events = append(events, e.Kind)
		}
	}
	if len(events) == 0 {
		return nil, "", core.FieldError("events", "Choose at least one event.")
	}
	secret, generated := n.Secret, ""
	switch n.Kind {
	case KindWeCom:
		secret = "" // a WeChat Work robot's key is in its URL
	case KindDingTalk:
		if secret != "" && (!strings.HasPrefix(secret, "SEC") || len(secret) > 200) {
			return nil, "", core.FieldError("secret", "DingTalk's signing secret starts with SEC; copy it from the robot's security settings.")
		}
	case KindWebhook:
		secret = NewSecret()
		generated = secret
	}
	t := &Target{Name: n.Name, Kind: n.Kind, URLShown: shown, HasSecret: secret != "", Events: events, Enabled: true, CreatedAt: s.now()}
	if err := s.Store.AddTarget(ctx, t, n.URL, secret, &st.ID); err != nil {
		return nil, "", err
	}
	return t, generated, nil
}

// SetEnabled switches a target on or off.
func (s *Service) SetEnabled(ctx context.Context, st *core.Staff, id int64, enabled bool) error {
	if err := mustAdmin(st); err != nil {
		return err
	}
	ok, err := s.Store.SetTargetEnabled(ctx, id, enabled)
	return found(ok, err)
}

// DeleteTarget removes a target and its pending deliveries.
func (s *Service) DeleteTarget(ctx context.Context, st *core.Staff, id int64) error {
	if err := mustAdmin(st); err != nil {
		return err
	}
	ok, err := s.Store.DeleteTarget(ctx, id)
	return found(ok, err)
}

// SendTest queues a test alert to one target, enabled or not.
func (s *Service) SendTest(ctx context.Context, st *core.Staff, id int64) error {
	if err := mustAdmin(st); err != nil {
		return err
	}
	ok, err := s.Store.EmitTest(ctx, id, Event{Kind: EventTest, Path: "/settings/alerts", At: s.now(), Name: st.Username})
	return found(ok, err)
}

func found(ok bool, err error) error {
	if err == nil && !ok {
		return core.Errorf(core.ENOTFOUND, "Alert target not found.")
	}
	return err
}

// NewSecret generates a webhook signing secret.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// ValidateURL accepts an absolute https URL without credentials (http only
// to a loopback host when allowLoopback), and returns the part that may be
// shown: scheme and host, as robot URLs carry their key in the path or query.
func ValidateURL(raw string, allowLoopback bool) (string, error) {
	if raw == "" || len(raw) > 2000 {
		return "", core.FieldError("url", "Enter the robot's or webhook's URL.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", core.FieldError("url", "Enter an absolute URL, starting with https://.")
	}
	if u.User != nil {
		return "", core.FieldError("url", "The URL must not contain a user name or password.")
	}
	if u.Fragment != "" {
		return "", core.FieldError("url", "The URL must not contain a fragment (#…).")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowLoopback || !loopback(u.Hostname()) {
			return "", core.FieldError("url", "The URL must start with https://.")
		}
	default:
		return "", core.FieldError("url", "The URL must start with https://.")
	}
	return u.Scheme + "://" + u.Host, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
