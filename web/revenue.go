package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// revenueRange reads the optional from/to (yyyy-mm-dd, Beijing days) of the
// revenue pages; an unreadable date is ignored, as the page's defaults apply.
func revenueRange(c echo.Context) (from, to time.Time) {
	if d, err := revenue.ParseDay(c.QueryParam("from")); err == nil {
		from = d
	}
	if d, err := revenue.ParseDay(c.QueryParam("to")); err == nil {
		to = d
	}
	return from, to
}

// revenueFilter reads the dashboard's optional slot, principal and state;
// an unknown slot or state is ignored, as the page's defaults apply.
func revenueFilter(c echo.Context) revenue.Filter {
	var f revenue.Filter
	if sl := c.QueryParam("slot"); slices.Contains(wechat.Slots(), sl) {
		f.Slot = sl
	}
	if st, ok := traffic.ParseState(c.QueryParam("state")); ok {
		f.State = string(st)
	}
	if p := strings.TrimSpace(c.QueryParam("principal")); utf8.RuneCountInString(p) <= 100 {
		f.Principal = p
	}
	return f
}

// handleRevenueDashboard shows what the traffic master earned: the periods
// against the ones before, and the chosen range's split, slots and top accounts.
func (s *Server) handleRevenueDashboard(c echo.Context) error {
	from, to := revenueRange(c)
	d, err := s.Revenue.DashboardFor(c.Request().Context(), from, to, revenueFilter(c))
	if err != nil {
		return err
	}
	b := s.base(c, "Revenue", "revenue")
	return render(c, http.StatusOK, views.RevenuePage(views.NewRevenueVM(b, d)))
}

// handleRevenueCSV streams what the dashboard shows for the range: one row per
// day per slot (the chart), then the provider's days (the split).
func (s *Server) handleRevenueCSV(c echo.Context) error {
	from, to := revenueRange(c)
	d, err := s.Revenue.DashboardFor(c.Request().Context(), from, to, revenueFilter(c))
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="revenue-`+d.From.Format("20060102")+`-`+d.To.Format("20060102")+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\uFEFF"))
	cw := newSafeCSV(w)
	b := views.Base{Lang: langOf(c)}
	_ = cw.Write([]string{"date", "slot", "slot_key", "exposure", "clicks", "income_yuan", "publisher_income_yuan", "agency_income_yuan"})
	for _, r := range d.Slots {
		if err := cw.Write([]string{r.Day.Format(time.DateOnly), b.T(views.SlotLabel(r.Slot)), r.Slot, strconv.FormatInt(r.Exposure, 10),
			strconv.FormatInt(r.Clicks, 10), "", r.Income.Yuan(), ""}); err != nil {
			return nil //nolint:nilerr // the client went away; nothing more to send
		}
	}
	for _, r := range d.Days {
		inc, ag := r.Income.Yuan(), r.AgencyIncome.Yuan()
		if d.SplitUnknown {
			// One slot's split is not reported: blank, not zero.
			inc, ag = "", ""
		}
		if err := cw.Write([]string{r.Day.Format(time.DateOnly), b.T("All slots"), "", strconv.FormatInt(r.Exposure, 10),
			strconv.FormatInt(r.Clicks, 10), inc, r.PublisherIncome.Yuan(), ag}); err != nil {
			return nil //nolint:nilerr // the client went away
		}
	}
	cw.Flush()
	return nil
}

// handleRevenuePullCreate queues a backfill of a date range (admins); its
// progress shows on the Jobs page.
func (s *Server) handleRevenuePullCreate(c echo.Context) error {
	from, err1 := revenue.ParseDay(c.FormValue("from"))
	to, err2 := revenue.ParseDay(c.FormValue("to"))
	var err error
	today := revenue.Day(s.Now())
	switch {
	case err1 != nil || err2 != nil:
		err = core.FieldError("from", "Choose both dates of the range.")
	case to.Before(from):
		err = core.FieldError("to", "The end date must not be before the start date.")
	case !to.Before(today):
		err = core.FieldError("to", "WeChat has figures up to yesterday.")
	case to.Sub(from) > revenue.MaxRangeDays*24*time.Hour:
		err = core.FieldError("from", "Backfill at most a year at a time.")
	default:
		st := core.StaffFrom(c.Request().Context())
		_, err = s.RevenuePulls.StartRevenuePull(c.Request().Context(), "backfill", from, to, &st.ID)
	}
	return s.flashOrFail(c, err, "/jobs", flashRule{OK: "The backfill is queued; its progress is shown below.", Shown: []string{core.EINVALID}})
}

// handleRevenueSettlement lists the half-month settlement intervals, the
// provider's own or (with ?appid=) one Mini Program's, with their status,
// amounts and slot breakdown.
func (s *Server) handleRevenueSettlement(c echo.Context) error {
	appID := c.QueryParam("appid")
	if appID == "" {
		appID = s.Config.WeChat.ComponentAppID
	}
	ivs, err := s.RevenueData.Settlement(c.Request().Context(), appID)
	if err != nil {
		return err
	}
	vm := views.NewSettlementVM(s.base(c, "Settlement", "revenue"), appID, appID == s.Config.WeChat.ComponentAppID, ivs)
	return render(c, http.StatusOK, views.SettlementPage(vm))
}
