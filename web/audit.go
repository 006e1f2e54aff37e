package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/views"
)

const auditPageSize = 50

// auditFilter reads the audit filters from the query; the first unusable
// value is reported (and ignored) rather than failing the page.
func (h *console) auditFilter(c echo.Context) (postgres.AttemptFilter, views.AuditFilter, string) {
	q := c.QueryParams()
	form := views.AuditFilter{AppID: strings.TrimSpace(q.Get("appid")), Staff: q.Get("staff"), Action: q.Get("action"),
		Outcome: q.Get("outcome"), Code: strings.TrimSpace(q.Get("code")), From: q.Get("from"), To: q.Get("to")}
	f := postgres.AttemptFilter{AppID: form.AppID}
	var bad string
	if form.Staff != "" {
		if id, err := strconv.ParseInt(form.Staff, 10, 64); err == nil {
			f.StaffID = id
		}
	}
	switch core.Action(form.Action) {
	case core.ActionCheck, core.ActionOpen:
		f.Action = core.Action(form.Action)
	}
	if form.Outcome == "pending" {
		f.Outcome = "pending"
	}
	for _, o := range views.Outcomes {
		if string(o) == form.Outcome {
			f.Outcome = o
		}
	}
	if form.Code != "" {
		if n, err := strconv.Atoi(form.Code); err == nil {
			f.Code = &n
		} else {
			bad = "The code must be a whole number."
		}
	}
	parse := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, h.s.Loc); err == nil {
				return &t
			}
		}
		bad = "Enter times as YYYY-MM-DDTHH:MM."
		return nil
	}
	f.From, f.To = parse(form.From), parse(form.To)
	return f, form, bad
}

func (h *console) audit(c echo.Context) error {
	f, form, bad := h.auditFilter(c)
	f.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	f.Limit = auditPageSize
	ctx := c.Request().Context()
	list, next, err := h.Store.ListAttempts(ctx, f)
	if err != nil {
		return err
	}
	staff, err := h.Store.StaffNames(ctx)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Base: h.s.base(c, "Audit history", "audit"), Attempts: list, Staff: staff, Filter: form, Next: next, IsFirst: f.Before <= 0}
	status := http.StatusOK
	if bad != "" {
		vm.FormErr, status = vm.T(bad), http.StatusUnprocessableEntity
	}
	return render(c, status, views.AuditPage(vm))
}

func (h *console) auditEntry(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return core.Errorf(core.ENOTFOUND, "Audit entry not found.")
	}
	a, err := h.Store.Attempt(c.Request().Context(), id)
	if err != nil {
		return err
	}
	vm := views.AuditDetailVM{Base: h.s.base(c, "Audit entry", "audit"), Attempt: a}
	return render(c, http.StatusOK, views.AuditDetailPage(vm))
}

// csvSafe stops spreadsheet programs from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// auditCSV streams the filtered entries as CSV, row by row, so memory stays
// flat whatever the size of the export.
func (h *console) auditCSV(c echo.Context) error {
	f, _, bad := h.auditFilter(c)
	if bad != "" {
		return core.Errorf(core.EINVALID, "%s", bad)
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="audit-`+time.Now().In(h.s.Loc).Format("20060102-150405")+`.csv"`)
	w.WriteHeader(http.StatusOK)
	// A byte-order mark makes spreadsheet programs read the Chinese names as UTF-8.
	_, _ = w.Write([]byte("\uFEFF"))
	cw := newSafeCSV(w)
	_ = cw.Write([]string{"id", "started_at", "finished_at", "appid", "name", "action", "action_key", "staff", "run_id", "status",
		"outcome", "outcome_key", "code", "message", "check_status", "latency_ms", "transport_error", "request_id", "client_ip"})
	n := 0
	optInt := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	// Times are in the console's zone with their offset (RFC 3339), as staff
	// read them on the pages; outcomes and actions are the pages' words in
	// the reader's language, each beside a stable key for programs.
	b := views.Base{Lang: langOf(c), Loc: h.s.Loc}
	stamp := func(t time.Time) string { return t.In(h.s.Loc).Format(time.RFC3339) }
	err := h.Store.EachAttempt(c.Request().Context(), f, func(a *core.Attempt) error {
		fin, run := "", ""
		if a.FinishedAt != nil {
			fin = stamp(*a.FinishedAt)
		}
		if a.RunID != nil {
			run = strconv.FormatInt(*a.RunID, 10)
		}
		outcomeKey := string(a.Outcome)
		if a.Status == core.AttemptPending {
			outcomeKey = string(core.AttemptPending)
		}
		if err := cw.Write([]string{strconv.FormatInt(a.ID, 10), stamp(a.StartedAt), fin, a.AppID, a.AppName,
			b.ActionWords(a.Action), string(a.Action), a.StaffName, run, string(a.Status),
			b.OutcomeWords(a), outcomeKey, optInt(a.Code), b.T(a.Message), optInt(a.CheckStatus),
			strconv.Itoa(a.LatencyMS), a.TransportError, a.RequestID, a.ClientIP}); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			cw.Flush()
			w.Flush()
			return cw.Error()
		}
		return nil
	})
	cw.Flush()
	if err != nil {
		// Headers are gone: the error handler only logs it; the truncated file is the signal.
		return err
	}
	return cw.Error()
}
