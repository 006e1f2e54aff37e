package traffic

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// Account statuses a filter may name: the Mini Programs page's status
// filter. A bulk run takes only normal and abnormal accounts (neither
// revoked nor an Official Account), whatever the filter says.
const (
	StatusNormal   = "normal"
	StatusAbnormal = "abnormal"
	StatusRevoked  = "revoked"
	StatusOfficial = "official"
)

// Sort orders of the Mini Programs page ("" is by name, in pinyin order).
const (
	SortName   = ""
	SortRecent = "recent"
	SortAppID  = "appid"
)

// Filter selects accounts: the Mini Programs page, its counts per state,
// the confirmation of a run "over the filter" and that run's selection all
// read one Filter, turned into SQL in one place (internal/postgres), so they
// take the same accounts. Q, State and Status say which accounts; the other
// fields say which page of them the list shows and are ignored where a
// filter selects rather than pages (counts, runs).
type Filter struct {
	// Q matches a substring of the name, appid, principal or original gh_ id.
	Q string
	// State is a traffic-master state ("" for any).
	State State
	// Status is an account status (StatusNormal…, "" for any).
	Status string

	// Sort is the list's order (SortName, SortRecent or SortAppID).
	Sort string
	// After and Before are opaque cursors: the page just after (or just
	// before) a row; After wins when both are set.
	After, Before string
	// Pos is where the link expects the page to be (a hint for counting the
	// position cheaply; the count itself is exact whatever it says).
	Pos int
	// Limit is the page size.
	Limit int
}

// ParseFilter reads a filter from a query or form (q, state, status, sort,
// after, before, pos). Values it does not know are left out of the filter
// (a hand-edited URL still shows a list) and reported in the error, an
// invalid-input error naming the first such field.
func ParseFilter(v url.Values) (Filter, error) {
	f := Filter{Q: strings.TrimSpace(v.Get("q")), After: v.Get("after"), Before: v.Get("before")}
	var bad *core.Error
	fail := func(field, format string, args ...any) {
		if bad == nil {
			bad = core.FieldError(field, format, args...)
		}
	}
	if s := v.Get("state"); s != "" {
		if st, ok := ParseState(s); ok {
			f.State = st
		} else {
			fail("state", "Unknown state %q.", s)
		}
	}
	switch s := v.Get("status"); s {
	case "", StatusNormal, StatusAbnormal, StatusRevoked, StatusOfficial:
		f.Status = s
	default:
		fail("status", "Unknown account status %q.", s)
	}
	switch s := v.Get("sort"); s {
	case SortName, SortRecent, SortAppID:
		f.Sort = s
	default:
		fail("sort", "Unknown order %q.", s)
	}
	if p := v.Get("pos"); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			f.Pos = n
		} else {
			fail("pos", "Not a position: %q.", p)
		}
	}
	if bad != nil {
		return f, bad
	}
	return f, nil
}

// ParseState returns the state named s, if there is one.
func ParseState(s string) (State, bool) {
	for _, st := range States {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Selection is the filter without its paging: which accounts, in no order.
func (f Filter) Selection() Filter { return Filter{Q: f.Q, State: f.State, Status: f.Status} }

// Describe records the filter's selection in a machine form (a URL query,
// empty for every account) that pages translate: a run's description.
func (f Filter) Describe() string {
	v := url.Values{}
	for k, s := range map[string]string{"state": string(f.State), "q": f.Q, "status": f.Status} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}
