// Package views holds the console's templ pages, partials and their view models.
package views

import (
	"fmt"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/static"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string // ok, error, info, warn
	Text string
}

// Base is what every page and partial needs: who is looking, in which
// language and zone, and the CSRF token for its forms.
type Base struct {
	Title     string
	Lang      i18n.Lang
	CSRF      string
	Staff     *core.Staff
	Flash     *Flash
	Nav       string
	Loc       *time.Location
	RequestID string
	Path      string
}

// T translates an English message into the viewer's language.
func (b Base) T(key string, args ...any) string { return i18n.T(b.Lang, key, args...) }

// Err translates a domain error for display.
func (b Base) Err(err error) string { return core.Translate(err, b.T) }

// Time formats t in the viewer's zone.
func (b Base) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(b.loc()).Format(timeLayout)
}

const timeLayout = "2006-01-02 15:04:05"

// TimeISO formats t for a datetime attribute.
func (b Base) TimeISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Zone names the viewer's zone, e.g. "Asia/Shanghai (UTC+08:00)".
func (b Base) Zone() string {
	_, off := time.Now().In(b.loc()).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s (UTC%c%02d:%02d)", b.loc().String(), sign, off/3600, off%3600/60)
}

func (b Base) loc() *time.Location {
	if b.Loc == nil {
		return time.UTC
	}
	return b.Loc
}

// Asset returns a cache-busted static URL.
func Asset(name string) string { return static.URL(name) }

// FieldErrors maps form field names to translated messages.
type FieldErrors map[string]string

// HasErr reports whether a field has an error.
func (f FieldErrors) HasErr(name string) bool { _, ok := f[name]; return ok }

func navClass(active, name string) string {
	if active == name {
		return "active"
	}
	return ""
}

func fieldClass(errs FieldErrors, name string) string {
	if errs.HasErr(name) {
		return "field invalid"
	}
	return "field"
}

func langTag(b Base) string {
	if b.Lang == i18n.ZH {
		return "zh-CN"
	}
	return "en"
}

// eventLabel names a security-log event for people.
func eventLabel(event core.EventName) string {
	switch event {
	case core.EventLogin:
		return "Sign-in"
	case core.EventLogout:
		return "Sign-out"
	case core.EventStaffCreate:
		return "Staff member added"
	case core.EventStaffRole:
		return "Role changed"
	case core.EventStaffPassword:
		return "Password reset"
	case core.EventStaffDisable:
		return "Staff member disabled"
	case core.EventStaffEnable:
		return "Staff member enabled"
	case core.EventShareRatioDefault:
		return "Default share ratio set"
	case core.EventPlatformSetting:
		return "Platform setting changed"
	}
	return string(event)
}

// every renders a schedule's period for people: "every 24 h", "every 5 min",
// "every 10 s".
func every(b Base, d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return b.T("every %d h", int(d/time.Hour))
	case d >= time.Minute && d%time.Minute == 0:
		return b.T("every %d min", int(d/time.Minute))
	case d >= time.Second && d%time.Second == 0:
		return b.T("every %d s", int(d/time.Second))
	}
	return b.T("every %s", d.String())
}

// runItemLabel names a run item's state while it has no outcome yet.
func runItemLabel(state traffic.ItemState) string {
	switch state {
	case traffic.ItemPending:
		return "Waiting"
	case traffic.ItemCalling:
		return "Calling WeChat"
	case traffic.ItemSkipped:
		return "Skipped"
	case traffic.ItemCancelled:
		return "Cancelled"
	}
	return string(state)
}
