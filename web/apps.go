package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/views"
)

func canAct(c echo.Context) bool { return core.StaffFrom(c.Request().Context()).CanOperate() }

const appsPageSize = 50

// appsFilter reads the list's filter from a query; unknown values are ignored.
func appsFilter(q url.Values) postgres.AccountFilter {
	f, _ := traffic.ParseFilter(q)
	f.Limit = appsPageSize
	return postgres.AccountFilter(f)
}

// handleAppsList is the Mini Programs page: the filtered, sorted list with
// its counts per state.
func (s *Server) handleAppsList(c echo.Context) error {
	f := appsFilter(c.QueryParams())
	page, err := s.Accounts.ListAccounts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	vm := views.AccountsVM{Base: s.base(c, "Mini Programs", "apps"), Accounts: page.Accounts, Q: f.Q, State: string(f.State),
		Status: f.Status, Sort: f.Sort, Counts: page.Counts, Total: page.Total, Next: page.Next, Prev: page.Prev,
		ShowFirst: page.Start > appsPageSize+1,
		Start:     page.Start, Matching: page.Matching, Runnable: page.Runnable, CanAct: canAct(c),
		Capped: page.Capped, CountCap: postgres.SearchCountCap}
	return render(c, http.StatusOK, views.AccountsPage(vm))
}

// listCounts returns the list's state chips as they are now, when the htmx
// request came from the list (whose URL htmx sends), so an action can
// refresh them; nil elsewhere.
func (s *Server) listCounts(c echo.Context, b views.Base) *views.AccountsVM {
	u, err := url.Parse(c.Request().Header.Get("HX-Current-URL"))
	if err != nil || u.Path != "/" {
		return nil
	}
	f := appsFilter(u.Query())
	sc, err := s.Accounts.CountStates(c.Request().Context(), f)
	if err != nil {
		s.Log(c).Warn("count states", "err", err)
		return nil
	}
	return &views.AccountsVM{Base: b, Q: f.Q, State: string(f.State), Status: f.Status, Sort: f.Sort, Counts: sc.Counts, Total: sc.Total,
		Matching: sc.Matching, Runnable: sc.Runnable, Capped: sc.Capped, CountCap: postgres.SearchCountCap}
}

// account loads the account named in the path; a malformed appid is simply not found.
func (s *Server) account(c echo.Context) (*traffic.Account, error) {
	id := c.Param("appid")
	if !traffic.ValidAppID(id) {
		return nil, core.Errorf(core.ENOTFOUND, "Mini Program not found.")
	}
	return s.Accounts.Account(c.Request().Context(), id)
}

// accountHistoryPage is how many attempts, and how many runs, the account page shows at a time.
const accountHistoryPage = 20

// handleAppShow is one Mini Program's page. A malformed appid is a bad request, a
// well-formed one nobody authorized is not found.
func (s *Server) handleAppShow(c echo.Context) error {
	if !traffic.ValidAppID(c.Param("appid")) {
		return echo.NewHTTPError(http.StatusBadRequest, "not a valid appid")
	}
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	vm := views.AccountVM{Account: acct, CanAct: canAct(c)}
	vm.AttemptsBefore, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	vm.RunsBefore, _ = strconv.ParseInt(c.QueryParam("runs_before"), 10, 64)
	vm.AttemptsBefore, vm.RunsBefore = max(vm.AttemptsBefore, 0), max(vm.RunsBefore, 0)
	if vm.Attempts, vm.AttemptsNext, err = s.Audit.ListAttempts(ctx, postgres.AttemptFilter{AppID: acct.AppID, Before: vm.AttemptsBefore, Limit: accountHistoryPage}); err != nil {
		return err
	}
	if vm.Runs, vm.RunsNext, err = s.Accounts.AccountRuns(ctx, acct.AppID, vm.RunsBefore, accountHistoryPage); err != nil {
		return err
	}
	if acct.LastAttemptID != nil {
		if vm.Last, err = s.Audit.Attempt(ctx, *acct.LastAttemptID); err != nil {
			return err
		}
	}
	if vm.Revenue, err = s.Revenue.Account(ctx, acct.AppID); err != nil {
		return err
	}
	title := acct.NickName
	if title == "" {
		title = acct.AppID
	}
	vm.Base = s.base(c, title, "apps")
	return render(c, http.StatusOK, views.AccountPage(vm))
}

// handleAttemptCheck checks whether WeChat would open the traffic master.
func (s *Server) handleAttemptCheck(c echo.Context) error { return s.attempt(c, traffic.ActionCheck) }

// handleAttemptOpen opens the traffic master, once confirmed.
func (s *Server) handleAttemptOpen(c echo.Context) error { return s.attempt(c, traffic.ActionOpen) }

// attempt runs one check or open. htmx gets the result partial for the row;
// a plain form post is redirected back with the result as a flash message.
func (s *Server) attempt(c echo.Context, act traffic.Action) error {
	ctx := c.Request().Context()
	appID := c.Param("appid")
	next := safeNext(c.FormValue("next"))
	if act == traffic.ActionOpen && canAct(c) && traffic.ValidAppID(appID) {
		acct, err := s.account(c)
		if err != nil {
			return err
		}
		// Without JavaScript there is no confirm dialog: ask with a page.
		// When the last call's outcome is unknown the account may already
		// be open: opening needs its own confirmation (a check first is
		// what the page suggests).
		unconfirmed := c.FormValue("confirmed") != "1"
		unknown := acct.State == traffic.StateUnknown && c.FormValue("unknown_ok") != "1"
		if unknown && isHTMX(c) {
			return render(c, http.StatusOK, views.ConfirmUnknownResult(s.base(c, "Mini Programs", "apps"), acct))
		}
		if unconfirmed || unknown {
			vm := views.ConfirmOpenVM{Base: s.base(c, "Open traffic master", "apps"), Account: acct}
			return render(c, http.StatusOK, views.ConfirmOpenPage(vm, next))
		}
	}
	a, acct, err := s.Attempter.Attempt(ctx, traffic.AttemptRequest{AppID: appID, Action: act, Staff: core.StaffFrom(ctx), Meta: Meta(c)})
	if err != nil {
		return err
	}
	if isHTMX(c) {
		vm := views.ResultVM{Base: s.base(c, "Mini Programs", "apps"), Attempt: a, Account: acct}
		if acct != nil {
			vm.Counts = s.listCounts(c, vm.Base)
		}
		return render(c, http.StatusOK, views.AttemptResult(vm))
	}
	// The result goes to the next page as a flash; building a full base
	// here would consume a flash that page has yet to show.
	b := views.Base{Lang: langOf(c), Loc: s.Loc}
	text := b.T(views.Sentence(a))
	if a.Code != nil && *a.Code != 0 {
		text += " " + b.T("WeChat code") + " " + strconv.Itoa(*a.Code) + ": " + a.Message
	} else if a.Message != "" {
		text += " " + b.T(a.Message)
	}
	if r := b.Remedy(a); r != "" {
		text += " " + b.T("What to do:") + " " + r
	}
	text += " " + b.T("Audit entry #%d", a.ID)
	s.setFlash(c, views.FlashKind(a.Outcome), text)
	return c.Redirect(http.StatusSeeOther, next)
}
