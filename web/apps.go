package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/views"
)

// Console is the traffic-master feature: the Mini Programs list, the check
// and open actions, and the audit history.
type Console struct {
	Attempter traffic.Attempter
	Store     *postgres.TrafficStore
}

type console struct {
	*Console
	s *Server
}

// Routes registers the console's pages. The actions sit in the viewer group
// on purpose: the service refuses viewers itself (403) and records the
// refusal in the audit, which a middleware refusal could not.
func (f *Console) Routes(s *Server, r Routers) {
	h := &console{Console: f, s: s}
	r.Viewer.GET("/", h.list)
	r.Viewer.GET("/apps/:appid", h.detail)
	r.Viewer.POST("/apps/:appid/check", h.action(traffic.ActionCheck))
	r.Viewer.POST("/apps/:appid/open", h.action(traffic.ActionOpen))
	r.Viewer.GET("/audit", h.audit)
	r.Viewer.GET("/audit.csv", h.auditCSV)
	r.Viewer.GET("/audit/:id", h.auditEntry)
}

func canAct(c echo.Context) bool { return core.StaffFrom(c.Request().Context()).CanOperate() }

const appsPageSize = 50

// appsFilter reads the list's filter from a query; unknown values are ignored.
func appsFilter(q url.Values) postgres.AccountFilter {
	f := postgres.AccountFilter{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Sort: q.Get("sort"), After: q.Get("after"), Before: q.Get("before"), Limit: appsPageSize}
	f.Pos, _ = strconv.Atoi(q.Get("pos"))
	for _, st := range traffic.States {
		if string(st) == q.Get("state") {
			f.State = st
		}
	}
	switch f.Status {
	case "", "normal", "abnormal", "revoked", "official":
	default:
		f.Status = ""
	}
	switch f.Sort {
	case "", "recent", "appid":
	default:
		f.Sort = ""
	}
	return f
}

func (h *console) list(c echo.Context) error {
	f := appsFilter(c.QueryParams())
	page, err := h.Store.ListAccounts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	vm := views.AccountsVM{Base: h.s.base(c, "Mini Programs", "apps"), Accounts: page.Accounts, Q: f.Q, State: string(f.State),
		Status: f.Status, Sort: f.Sort, Counts: page.Counts, Total: page.Total, Next: page.Next, Prev: page.Prev,
		ShowFirst: page.Start > appsPageSize+1,
		Start:     page.Start, Matching: page.Matching, Runnable: page.Runnable, CanAct: canAct(c)}
	return render(c, http.StatusOK, views.AccountsPage(vm))
}

// listCounts returns the list's state chips as they are now, when the htmx
// request came from the list (whose URL htmx sends), so an action can
// refresh them; nil elsewhere.
func (h *console) listCounts(c echo.Context, b views.Base) *views.AccountsVM {
	u, err := url.Parse(c.Request().Header.Get("HX-Current-URL"))
	if err != nil || u.Path != "/" {
		return nil
	}
	f := appsFilter(u.Query())
	sc, err := h.Store.CountStates(c.Request().Context(), f)
	if err != nil {
		h.s.Log(c).Warn("count states", "err", err)
		return nil
	}
	return &views.AccountsVM{Base: b, Q: f.Q, State: string(f.State), Status: f.Status, Sort: f.Sort, Counts: sc.Counts, Total: sc.Total,
		Matching: sc.Matching, Runnable: sc.Runnable}
}

// account loads the account named in the path; a malformed appid is simply not found.
func (h *console) account(c echo.Context) (*traffic.Account, error) {
	id := c.Param("appid")
	if !traffic.ValidAppID(id) {
		return nil, core.Errorf(core.ENOTFOUND, "Mini Program not found.")
	}
	return h.Store.Account(c.Request().Context(), id)
}

// accountHistoryPage is how many attempts, and how many runs, the account page shows at a time.
const accountHistoryPage = 20

// detail is one Mini Program's page. A malformed appid is a bad request, a
// well-formed one nobody authorized is not found.
func (h *console) detail(c echo.Context) error {
	if !traffic.ValidAppID(c.Param("appid")) {
		return echo.NewHTTPError(http.StatusBadRequest, "not a valid appid")
	}
	acct, err := h.account(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	vm := views.AccountVM{Account: acct, CanAct: canAct(c)}
	vm.AttemptsBefore, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	vm.RunsBefore, _ = strconv.ParseInt(c.QueryParam("runs_before"), 10, 64)
	vm.AttemptsBefore, vm.RunsBefore = max(vm.AttemptsBefore, 0), max(vm.RunsBefore, 0)
	if vm.Attempts, vm.AttemptsNext, err = h.Store.ListAttempts(ctx, postgres.AttemptFilter{AppID: acct.AppID, Before: vm.AttemptsBefore, Limit: accountHistoryPage}); err != nil {
		return err
	}
	if vm.Runs, vm.RunsNext, err = h.Store.AccountRuns(ctx, acct.AppID, vm.RunsBefore, accountHistoryPage); err != nil {
		return err
	}
	if acct.LastAttemptID != nil {
		if vm.Last, err = h.Store.Attempt(ctx, *acct.LastAttemptID); err != nil {
			return err
		}
	}
	title := acct.NickName
	if title == "" {
		title = acct.AppID
	}
	vm.Base = h.s.base(c, title, "apps")
	return render(c, http.StatusOK, views.AccountPage(vm))
}

// action runs one check or open. htmx gets the result partial for the row;
// a plain form post is redirected back with the result as a flash message.
func (h *console) action(act traffic.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		appID := c.Param("appid")
		next := safeNext(c.FormValue("next"))
		if act == traffic.ActionOpen && canAct(c) && traffic.ValidAppID(appID) {
			acct, err := h.account(c)
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
				return render(c, http.StatusOK, views.ConfirmUnknownResult(h.s.base(c, "Mini Programs", "apps"), acct))
			}
			if unconfirmed || unknown {
				vm := views.ConfirmOpenVM{Base: h.s.base(c, "Open traffic master", "apps"), Account: acct}
				return render(c, http.StatusOK, views.ConfirmOpenPage(vm, next))
			}
		}
		a, acct, err := h.Attempter.Attempt(ctx, traffic.AttemptRequest{AppID: appID, Action: act, Staff: core.StaffFrom(ctx), Meta: Meta(c)})
		if err != nil {
			return err
		}
		if isHTMX(c) {
			vm := views.ResultVM{Base: h.s.base(c, "Mini Programs", "apps"), Attempt: a, Account: acct}
			if acct != nil {
				vm.Counts = h.listCounts(c, vm.Base)
			}
			return render(c, http.StatusOK, views.AttemptResult(vm))
		}
		// The result goes to the next page as a flash; building a full base
		// here would consume a flash that page has yet to show.
		b := views.Base{Lang: langOf(c), Loc: h.s.Loc}
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
		h.s.setFlash(c, views.FlashKind(a.Outcome), text)
		return c.Redirect(http.StatusSeeOther, next)
	}
}
