package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// startCSV sends the headers of a CSV download and returns its writer; the
// BOM lets spreadsheet programs read the Chinese names as UTF-8.
func startCSV(c echo.Context, filename string) safeCSV {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\uFEFF"))
	return newSafeCSV(w)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// handleAccountRevenueCSV streams what a Mini Program's revenue section shows
// (the last 30 days, or ?from=&to=): one row per day per slot, then one per
// day per ad unit, each written as the database returns it.
func (s *Server) handleAccountRevenueCSV(c echo.Context) error {
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	from, to := revenueRange(c)
	today := revenue.Day(s.Now())
	if from.IsZero() {
		from = today.AddDate(0, 0, -30)
	}
	from, to = revenue.ClampRange(from, to, today)
	ctx := c.Request().Context()
	cw := startCSV(c, "revenue-"+acct.AppID+"-"+from.Format("20060102")+"-"+to.Format("20060102")+".csv")
	b := views.Base{Lang: langOf(c)}
	_ = cw.Write([]string{"date", "appid", "slot", "slot_key", "ad_unit_id", "ad_unit_name", "req_succ", "exposure", "clicks",
		"income_yuan", "publisher_income_yuan", "agency_income_yuan"})
	// The slot rows carry the Mini Program's own income only, as WeChat
	// reports it per slot; the unit rows carry the split.
	err = s.RevenueData.EachAccountSlotDay(ctx, acct.AppID, from, to, func(r revenue.SlotDay) error {
		return cw.Write([]string{r.Day.Format(time.DateOnly), acct.AppID, b.T(views.SlotLabel(r.Slot)), r.Slot, "", "",
			itoa(r.ReqSucc), itoa(r.Exposure), itoa(r.Clicks), "", r.PublisherIncome.Yuan(), ""})
	})
	if err == nil {
		err = s.RevenueData.EachAccountUnitDay(ctx, acct.AppID, from, to, func(r revenue.UnitDay) error {
			return cw.Write([]string{r.Day.Format(time.DateOnly), acct.AppID, "", "", r.AdUnitID, r.Name,
				itoa(r.ReqSucc), itoa(r.Exposure), itoa(r.Clicks), r.Income.Yuan(), r.PublisherIncome.Yuan(), r.AgencyIncome.Yuan()})
		})
	}
	cw.Flush()
	if err != nil {
		// The status is sent; the cut-off file is all the client gets.
		s.Log(c).Warn("account revenue CSV", "appid", acct.AppID, "err", err)
	}
	return nil
}

// handleSettlementCSV streams what the settlement page shows: one row per
// interval with WeChat's totals, then one per interval per slot.
func (s *Server) handleSettlementCSV(c echo.Context) error {
	appID := c.QueryParam("appid")
	if appID == "" {
		appID = s.Config.WeChat.ComponentAppID
	}
	ivs, err := s.RevenueData.Settlement(c.Request().Context(), appID)
	if err != nil {
		return err
	}
	cw := startCSV(c, "settlement-"+appID+".csv")
	b := views.Base{Lang: langOf(c)}
	_ = cw.Write([]string{"appid", "month", "half", "status", "status_key", "slot", "slot_key",
		"revenue_yuan", "penalty_yuan", "settled_yuan", "wechat_settled_yuan", "sett_no"})
	opt := func(iv revenue.Interval, f wechat.Fen) string {
		if !iv.Reported {
			return ""
		}
		return f.Yuan()
	}
	for _, iv := range ivs {
		status := b.T(views.SettStatusLabel(iv.Status))
		if err := cw.Write([]string{appID, iv.Month, strconv.Itoa(iv.Half), status, strconv.Itoa(iv.Status), b.T("All slots"), "",
			opt(iv, iv.Revenue), opt(iv, iv.Penalty), iv.SettledRevenue.Yuan(), opt(iv, iv.ReportedSettled), iv.SettNo}); err != nil {
			return nil //nolint:nilerr // the client went away; nothing more to send
		}
		for _, sl := range wechat.Slots() {
			v, ok := iv.Slots[sl]
			if !ok {
				continue
			}
			if err := cw.Write([]string{appID, iv.Month, strconv.Itoa(iv.Half), status, strconv.Itoa(iv.Status), b.T(views.SlotLabel(sl)), sl,
				"", "", v.Yuan(), "", iv.SettNo}); err != nil {
				return nil //nolint:nilerr // the client went away
			}
		}
	}
	cw.Flush()
	return nil
}
