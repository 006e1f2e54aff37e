package views

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// The server records some facts as short machine strings (a run's selection,
// a job's summary, a security-log detail); these turn them into the viewer's
// language when shown.

var legacySelected = regexp.MustCompile(`^(\d+) selected$`)

// SelectionText renders a run's recorded selection in the viewer's language.
func SelectionText(b Base, desc string) string {
	desc = strings.TrimSpace(desc)
	if desc == "" || desc == "all Mini Programs" {
		return b.T("all Mini Programs")
	}
	if m := legacySelected.FindStringSubmatch(desc); m != nil {
		n, _ := strconv.Atoi(m[1])
		return b.T("%d selected", n)
	}
	if !strings.Contains(desc, "=") {
		return b.T(desc) // a schedule's own description
	}
	v := url.Values{}
	if strings.Contains(desc, " ") {
		// Older runs recorded "state=never q=… status=…".
		key := ""
		for _, f := range strings.Fields(desc) {
			if k, val, ok := strings.Cut(f, "="); ok && (k == "state" || k == "q" || k == "status") {
				key = k
				v.Set(k, val)
			} else if key != "" {
				v.Set(key, v.Get(key)+" "+f)
			}
		}
	} else if parsed, err := url.ParseQuery(desc); err == nil {
		v = parsed
	}
	var parts []string
	if n := v.Get("selected"); n != "" {
		k, _ := strconv.Atoi(n)
		parts = append(parts, b.T("%d selected", k))
	}
	if s := v.Get("state"); s != "" {
		parts = append(parts, b.T("state: %s", b.T(StateLabel(traffic.State(s)))))
	}
	if s := v.Get("status"); s != "" {
		parts = append(parts, b.T("account status: %s", b.T(statusFilterLabel(s))))
	}
	if s := v.Get("q"); s != "" {
		parts = append(parts, b.T("search: “%s”", s))
	}
	if len(parts) == 0 {
		return b.T("all Mini Programs")
	}
	return strings.Join(parts, b.T("; "))
}

func statusFilterLabel(s string) string {
	switch s {
	case "normal":
		return "Normal Mini Programs"
	case "abnormal":
		return "Banned, frozen or warned"
	case "revoked":
		return "Revoked"
	case "official":
		return "Official Accounts"
	}
	return s
}

var jobOutputs = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^run (\d+) over (\d+) accounts$`), "run #%d over %d accounts"},
	{regexp.MustCompile(`^(\d+) authorizer tokens refreshed$`), "%d authorizer tokens refreshed"},
	{regexp.MustCompile(`^revenue pull (\d+) queued$`), "ad data pull #%d queued"},
	{regexp.MustCompile(`^(\d+) accounts moved to another state, (\d+) authorizers added or renamed, (\d+) days summed per principal$`),
		"%d accounts moved to another state, %d authorizers added or renamed, %d days summed per principal"},
	{regexp.MustCompile(`^(\d+) texts of principals kept in (\d+) groups$`), "%d texts of principals kept in %d groups"},
	{regexp.MustCompile(`^(\d+) listed, (\d+) new, (\d+) profiles read, (\d+) refresh tokens recovered, (\d+) revoked, (\d+) failed$`),
		"%d listed, %d new, %d profiles read, %d refresh tokens recovered, %d revoked, %d failed"},
}

// JobOutput renders a scheduled job's recorded summary in the viewer's language.
func JobOutput(b Base, s string) string {
	s = strings.Trim(strings.TrimSpace(s), `"`) // River keeps the output as JSON
	for _, o := range jobOutputs {
		if m := o.re.FindStringSubmatch(s); m != nil {
			args := make([]any, len(m)-1)
			for i, g := range m[1:] {
				args[i], _ = strconv.Atoi(g)
			}
			return b.T(o.key, args...)
		}
	}
	return b.T(s)
}

var roleChange = regexp.MustCompile(`^(\w+) -> (\w+)$`)

// SecurityDetail renders a security-log detail in the viewer's language.
func SecurityDetail(b Base, d string) string {
	d = strings.TrimSpace(d)
	suffix := ""
	if rest, ok := strings.CutSuffix(d, "(command line)"); ok {
		d, suffix = strings.TrimSpace(rest), b.T("(command line)")
	}
	switch {
	case d == "":
	case roleChange.MatchString(d):
		m := roleChange.FindStringSubmatch(d)
		d = b.T("%s → %s", b.T(m[1]), b.T(m[2]))
	case strings.HasPrefix(d, "role="):
		d = b.T("role: %s", b.T(strings.TrimPrefix(d, "role=")))
	default:
		d = b.T(d)
	}
	return strings.TrimSpace(d + " " + suffix)
}

// Duration renders a duration for people, in the viewer's language: "1 h 5 min", "2 min 30 s".
func Duration(b Base, d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return b.T("%d h %d min", h, m)
	case m > 0:
		return b.T("%d min %d s", m, s)
	}
	return b.T("%d s", s)
}

// jobStateLabel names a queue job's state.
func jobStateLabel(s string) string {
	switch s {
	case "completed":
		return "Completed"
	case "running":
		return "Running"
	case "available", "scheduled", "pending":
		return "Waiting"
	case "retryable":
		return "Will retry"
	case "cancelled":
		return "Cancelled"
	case "discarded":
		return "Gave up"
	}
	return s
}

// attemptStatusLabel names where an attempt is in its life.
func attemptStatusLabel(s string) string {
	switch s {
	case "pending":
		return "Pending"
	case "completed":
		return "Completed"
	case "interrupted":
		return "Interrupted"
	case "rejected":
		return "Refused before calling WeChat"
	}
	return s
}

// runStatusLabel names a run's status.
func runStatusLabel(s string) string {
	switch s {
	case "running":
		return "Running"
	case "paused":
		return "Paused"
	case "cancelled":
		return "Cancelled"
	case "finished":
		return "Completed"
	}
	return s
}

// invalid marks a form field that has an error message, for assistive technology.
func invalid(errorID, msg string) templ.Attributes {
	if msg == "" {
		return nil
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": errorID}
}

// oobAttr marks an element for an htmx out-of-band swap when oob is set.
func oobAttr(oob bool) templ.Attributes {
	if !oob {
		return nil
	}
	return templ.Attributes{"hx-swap-oob": "true"}
}
