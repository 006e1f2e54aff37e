package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/views"
)

const auditPageSize = 50

// auditFilter reads the audit filters from the query. Unusable values are
// reported per field (translated) and ignored rather than failing the page.
func (s *Server) auditFilter(c echo.Context) (postgres.AttemptFilter, views.AuditFilter, map[string]string) {
	q := c.QueryParams()
	form := views.AuditFilter{AppID: strings.TrimSpace(q.Get("appid")), Staff: q.Get("staff"), Action: q.Get("action"),
		Group: q.Get("group"), Outcome: q.Get("outcome"), Code: strings.TrimSpace(q.Get("code")), Run: strings.TrimSpace(q.Get("run")),
		From: q.Get("from"), To: q.Get("to")}
	f := postgres.AttemptFilter{AppID: form.AppID}
	lang := langOf(c)
	bad := map[string]string{}
	if form.Staff != "" {
		if id, err := strconv.ParseInt(form.Staff, 10, 64); err == nil {
			f.StaffID = id
		}
	}
	if a, ok := traffic.ParseAction(form.Action); ok {
		f.Action = a
	}
	if g, ok := traffic.ParseGroup(form.Group); ok {
		f.Group = g
	}
	if form.Outcome == "pending" {
		f.Outcome = "pending"
	}
	for _, o := range traffic.Outcomes {
		if o.Outcome != "" && string(o.Outcome) == form.Outcome {
			f.Outcome = o.Outcome
		}
	}
	if form.Code != "" {
		if n, err := strconv.Atoi(form.Code); err == nil {
			f.Code = &n
		} else {
			bad["code"] = i18n.T(lang, "The code must be a whole number.")
		}
	}
	if form.Run != "" {
		if n, err := strconv.ParseInt(strings.TrimPrefix(form.Run, "#"), 10, 64); err == nil && n > 0 {
			f.RunID = n
		} else {
			bad["run"] = i18n.T(lang, "A run is named by its number.")
		}
	}
	parse := func(field, v string) *time.Time {
		if v == "" {
			return nil
		}
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, v, s.Loc); err == nil {
				return &t
			}
		}
		bad[field] = i18n.T(lang, "Enter times as YYYY-MM-DDTHH:MM.")
		return nil
	}
	f.From, f.To = parse("from", form.From), parse("to", form.To)
	if f.From != nil && f.To != nil && f.From.After(*f.To) {
		bad["to"] = i18n.T(lang, "“To” must not be before “From”.")
	}
	return f, form, bad
}

// handleAuditList is the audit history: filtered, a page at a time.
func (s *Server) handleAuditList(c echo.Context) error {
	f, form, bad := s.auditFilter(c)
	f.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	f.Limit = auditPageSize
	ctx := c.Request().Context()
	var list []*traffic.Attempt
	var next int64
	var err error
	// A filter that cannot be used is a form error (422): the page shows the
	// form with the message beside the field and no list, rather than a list
	// that silently ignores what staff asked for.
	if len(bad) == 0 {
		list, next, err = s.Audit.ListAttempts(ctx, f)
		if err != nil {
			return err
		}
	}
	staff, err := s.Audit.StaffNames(ctx)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Base: s.base(c, "Audit history", "audit"), Attempts: list, Staff: staff, Filter: form, Next: next, IsFirst: f.Before <= 0, FieldErrs: bad}
	status := http.StatusOK
	if len(bad) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.AuditPage(vm))
}

// handleAuditShow is one audit entry with its raw reply.
func (s *Server) handleAuditShow(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return core.Errorf(core.ENOTFOUND, "Audit entry not found.")
	}
	a, err := s.Audit.Attempt(c.Request().Context(), id)
	if err != nil {
		return err
	}
	vm := views.AuditDetailVM{Base: s.base(c, "Audit entry", "audit"), Attempt: a}
	return render(c, http.StatusOK, views.AuditDetailPage(vm))
}

// handleAuditCSV streams the filtered entries as CSV, row by row, so memory stays
// flat whatever the size of the export.
func (s *Server) handleAuditCSV(c echo.Context) error {
	f, _, bad := s.auditFilter(c)
	for _, field := range []string{"code", "run", "from", "to"} {
		if msg, ok := bad[field]; ok {
			return core.FieldError(field, "%s", msg)
		}
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="audit-`+time.Now().In(s.Loc).Format("20060102-150405")+`.csv"`)
	w.WriteHeader(http.StatusOK)
	// A byte-order mark makes spreadsheet programs read the Chinese names as UTF-8.
	_, _ = w.Write([]byte("\uFEFF"))
	cw := newSafeCSV(w)
	_ = cw.Write([]string{"id", "started_at", "finished_at", "appid", "name", "action", "action_key", "staff", "run_id", "status",
		"outcome", "outcome_key", "code", "message", "check_status", "latency_ms", "transport_error", "request_id", "client_ip", "params"})
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
	b := views.Base{Lang: langOf(c), Loc: s.Loc}
	stamp := func(t time.Time) string { return t.In(s.Loc).Format(time.RFC3339) }
	err := s.Audit.EachAttempt(c.Request().Context(), f, func(a *traffic.Attempt) error {
		fin, run := "", ""
		if a.FinishedAt != nil {
			fin = stamp(*a.FinishedAt)
		}
		if a.RunID != nil {
			run = strconv.FormatInt(*a.RunID, 10)
		}
		outcomeKey := string(a.Outcome)
		if a.Status == traffic.AttemptPending {
			outcomeKey = string(traffic.AttemptPending)
		}
		if err := cw.Write([]string{strconv.FormatInt(a.ID, 10), stamp(a.StartedAt), fin, a.AppID, a.AccountName,
			b.ActionWords(a.Action), string(a.Action), a.StaffName, run, string(a.Status),
			b.OutcomeWords(a), outcomeKey, optInt(a.Code), b.T(a.Message), optInt(a.CheckStatus),
			strconv.Itoa(a.LatencyMS), a.TransportError, a.RequestID, a.ClientIP, string(a.Params)}); err != nil {
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
