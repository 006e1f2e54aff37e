package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// The account page's cover-ad, blocking and share-ratio panels, and the
// platform's default share ratio. A panel is an htmx partial read from its
// snapshot (WeChat when none is kept or Refresh is asked); a write answers
// with the panel read again and the write's result above it. Without
// JavaScript the panels live on /apps/:appid/ad-settings, where every form
// comes back with a message.

// coverSwitchInterval is WeChat's limit on switching cover ads (2008) and
// on switching them on after opening (2068).
const coverSwitchInterval = time.Hour

// panelBase is what every panel of one account shares.
func (s *Server) panelBase(c echo.Context, appID string) views.PanelVM {
	return views.PanelVM{Base: s.base(c, "Cover ads, blocking and share ratio", "apps"), AppID: appID, CanAct: canAct(c), Now: s.Now()}
}

func refreshAsked(c echo.Context, panel string) bool {
	r := c.QueryParam("refresh")
	return r == "1" || r == panel
}

// coverPanel reads the cover-ad panel and works out when the switch may be
// used again: WeChat's next_open_time, or an hour after the last switch, or
// after a refusal for one of the hourly limits (an hour after a refusal the
// limit has certainly passed).
func (s *Server) coverPanel(c echo.Context, pv views.PanelVM, refresh bool) (views.CoverPanelVM, error) {
	ctx := c.Request().Context()
	snap, err := s.AdPanels.Cover(ctx, pv.AppID, refresh)
	if err != nil {
		return views.CoverPanelVM{}, err
	}
	vm := views.CoverPanelVM{PanelVM: pv, Snap: snap, Known: !snap.FetchedAt.IsZero()}
	if t := vm.NextOpen(); !t.IsZero() {
		vm.RetryAt = t
	}
	last, _, err := s.Audit.ListAttempts(ctx, postgres.AttemptFilter{AppID: pv.AppID, Action: traffic.ActionCoverStatus, Limit: 5})
	if err != nil {
		return vm, err
	}
	// A switch that WeChat took starts its hour, whatever WeChat says. A
	// refusal for a limit means the limit ends within the hour after it: that
	// counts only while WeChat has not been read since (a read after it
	// gives next_open_time, or says the switch may be used).
	// The newest of them names the limit.
	refusalSeen, named := false, false
	for _, a := range last {
		if a.Status != traffic.AttemptCompleted {
			continue // refused before the call, or interrupted: says nothing of WeChat's clock
		}
		at := a.StartedAt
		if a.FinishedAt != nil {
			at = *a.FinishedAt
		}
		code := 0
		if a.Code != nil {
			code = *a.Code
		}
		until := at.Add(coverSwitchInterval)
		switch {
		case a.Outcome == traffic.OutcomeSuccess && code == 0:
			code = 2008
			if until.After(vm.RetryAt) {
				vm.RetryAt = until
			}
		case (code == 2008 || code == 2068) && !refusalSeen:
			refusalSeen = true
			if snap.FetchedAt.Before(at) && until.After(vm.RetryAt) {
				vm.RetryAt = until
			}
		default:
			continue
		}
		if !named {
			vm.RetryCode, named = code, true
		}
	}
	if !vm.RetryAt.After(pv.Now) {
		vm.RetryAt, vm.RetryCode = time.Time{}, 0
	}
	return vm, nil
}

func (s *Server) blockingPanel(c echo.Context, pv views.PanelVM, refresh bool) (views.BlockingPanelVM, error) {
	snap, err := s.AdPanels.Blocking(c.Request().Context(), pv.AppID, refresh)
	return views.BlockingPanelVM{PanelVM: pv, Snap: snap, Known: !snap.FetchedAt.IsZero()}, err
}

func (s *Server) ratioPanel(c echo.Context, pv views.PanelVM, refresh bool) (views.RatioPanelVM, error) {
	snap, err := s.AdPanels.Ratio(c.Request().Context(), pv.AppID, refresh)
	return views.RatioPanelVM{PanelVM: pv, Snap: snap, Known: !snap.FetchedAt.IsZero()}, err
}

// handleAdSettings shows the three panels on a page of their own.
func (s *Server) handleAdSettings(c echo.Context) error {
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	pv := s.panelBase(c, acct.AppID)
	vm := views.AdSettingsVM{Base: pv.Base, Account: acct}
	if vm.Cover, err = s.coverPanel(c, pv, refreshAsked(c, "cover-ads")); err != nil {
		return err
	}
	if vm.Blocking, err = s.blockingPanel(c, pv, refreshAsked(c, "blocking")); err != nil {
		return err
	}
	if vm.Ratio, err = s.ratioPanel(c, pv, refreshAsked(c, "share-ratio")); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AdSettingsPage(vm))
}

// panelGet serves one panel to htmx; a browser without it gets the page of all three.
func (s *Server) panelGet(c echo.Context, id string, show func(pv views.PanelVM, refresh bool) error) error {
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/apps/"+acct.AppID+"/ad-settings#"+id)
	}
	return show(s.panelBase(c, acct.AppID), c.QueryParam("refresh") == "1")
}

// handleCoverPanel is the cover-ad panel.
func (s *Server) handleCoverPanel(c echo.Context) error {
	return s.panelGet(c, "cover-ads", func(pv views.PanelVM, refresh bool) error {
		vm, err := s.coverPanel(c, pv, refresh)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.CoverPanel(vm))
	})
}

// handleBlockingPanel is the blocking panel.
func (s *Server) handleBlockingPanel(c echo.Context) error {
	return s.panelGet(c, "blocking", func(pv views.PanelVM, refresh bool) error {
		vm, err := s.blockingPanel(c, pv, refresh)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.BlockingPanel(vm))
	})
}

// handleRatioPanel is the share-ratio panel.
func (s *Server) handleRatioPanel(c echo.Context) error {
	return s.panelGet(c, "share-ratio", func(pv views.PanelVM, refresh bool) error {
		vm, err := s.ratioPanel(c, pv, refresh)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.RatioPanel(vm))
	})
}

// amsRequest is the write request of the signed-in staff member for the path's account.
func amsRequest(c echo.Context) ams.Request {
	return ams.Request{AppID: c.Param("appid"), Staff: core.StaffFrom(c.Request().Context()), Meta: Meta(c)}
}

// panelWrite finishes a write from a panel. htmx gets the panel read again
// with the result above it (or the form's field error, with 422); a plain
// form goes back to the settings page with the result as a message. Any
// other error (forbidden, not found) takes the one error path.
func (s *Server) panelWrite(c echo.Context, id string, a *traffic.Attempt, werr error, show func(pv views.PanelVM) (templ.Component, error)) error {
	var ce *core.Error
	field := errors.As(werr, &ce) && ce.Field != "" && ce.Code == core.EINVALID
	if werr != nil && !field {
		return werr
	}
	appID := c.Param("appid")
	if !isHTMX(c) {
		if field {
			s.setFlash(c, "error", core.ErrorMessage(werr))
		} else if a != nil {
			s.setFlash(c, flashKind(a), views.Sentence(a))
		}
		return c.Redirect(http.StatusSeeOther, "/apps/"+appID+"/ad-settings#"+id)
	}
	pv := s.panelBase(c, appID)
	pv.Result = a
	if a != nil {
		// The account page reads its history again (AdPanels listens).
		c.Response().Header().Set("HX-Trigger", "ad-write")
	}
	status := http.StatusOK
	if field {
		pv.Errors = views.FieldErrors{ce.Field: pv.Err(ce)}
		// app.js swaps a response marked so although it is an error.
		c.Response().Header().Set("HX-Error", "1")
		status = http.StatusUnprocessableEntity
	}
	comp, err := show(pv)
	if err != nil {
		return err
	}
	return render(c, status, comp)
}

func flashKind(a *traffic.Attempt) string {
	if traffic.GroupOf(traffic.ShownOutcome(a)) == traffic.GroupDone {
		return "ok"
	}
	return "warn"
}

// confirmFirst asks on a page when a plain form (no script, so no confirm
// dialog) has not confirmed; it reports whether it answered. Viewers are
// not asked: the write refuses them.
func (s *Server) confirmFirst(c echo.Context, question string, fields map[string]string) (bool, error) {
	if isHTMX(c) || c.FormValue("confirmed") == "1" || !canAct(c) {
		return false, nil
	}
	acct, err := s.account(c)
	if err != nil {
		return true, err
	}
	vm := views.ConfirmAdChangeVM{Base: s.base(c, "Please confirm", "apps"), Action: c.Request().URL.Path, Fields: fields, Back: "/apps/" + acct.AppID + "/ad-settings"}
	vm.Question = vm.T(question)
	return true, render(c, http.StatusOK, views.ConfirmAdChangePage(vm))
}

func (s *Server) showCover(c echo.Context) func(pv views.PanelVM) (templ.Component, error) {
	return func(pv views.PanelVM) (templ.Component, error) {
		vm, err := s.coverPanel(c, pv, false)
		return views.CoverPanel(vm), err
	}
}

func (s *Server) showBlocking(c echo.Context) func(pv views.PanelVM) (templ.Component, error) {
	return func(pv views.PanelVM) (templ.Component, error) {
		vm, err := s.blockingPanel(c, pv, false)
		return views.BlockingPanel(vm), err
	}
}

func (s *Server) showRatio(c echo.Context) func(pv views.PanelVM) (templ.Component, error) {
	return func(pv views.PanelVM) (templ.Component, error) {
		vm, err := s.ratioPanel(c, pv, false)
		return views.RatioPanel(vm), err
	}
}

// handleCoverSwitch switches cover ads on or off, once confirmed.
func (s *Server) handleCoverSwitch(c echo.Context) error {
	on := c.FormValue("on") == "1"
	q := "Switch cover ads off? WeChat then allows no other switch for an hour."
	if on {
		q = "Switch cover ads on? WeChat then allows no other switch for an hour."
	}
	if asked, err := s.confirmFirst(c, q, map[string]string{"on": c.FormValue("on")}); asked {
		return err
	}
	a, err := s.AdPanels.SwitchCover(c.Request().Context(), amsRequest(c), ams.CoverSwitch{On: on})
	return s.panelWrite(c, "cover-ads", a, err, s.showCover(c))
}

// handleCoverScenes saves the scenes cover ads show in.
func (s *Server) handleCoverScenes(c echo.Context) error {
	form, _ := c.FormParams()
	var scenes []int
	for _, v := range form["scene"] {
		if n, err := strconv.Atoi(v); err == nil {
			scenes = append(scenes, n)
		}
	}
	a, err := s.AdPanels.SetCoverScenes(c.Request().Context(), amsRequest(c), ams.CoverScenes{Scenes: scenes})
	return s.panelWrite(c, "cover-ads", a, err, s.showCover(c))
}

// handleBlocklistChange blocks an advertiser, or stops blocking one once confirmed.
func (s *Server) handleBlocklistChange(c echo.Context) error {
	add := c.FormValue("op") != "remove"
	kind, _ := strconv.Atoi(c.FormValue("kind"))
	id := core.CleanText(c.FormValue("id"), 128)
	if !add {
		if asked, err := s.confirmFirst(c, "Stop blocking this advertiser?", map[string]string{"op": "remove", "kind": c.FormValue("kind"), "id": id}); asked {
			return err
		}
	}
	a, err := s.AdPanels.ChangeBlocklist(c.Request().Context(), amsRequest(c), ams.BlockChange{Add: add, Entries: []wechat.BlockEntry{{Type: kind, ID: id}}})
	return s.panelWrite(c, "blocking", a, err, s.showBlocking(c))
}

// handleIndustries saves the blocked industries, all in one write.
func (s *Server) handleIndustries(c echo.Context) error {
	form, _ := c.FormParams()
	cats := []string{}
	for _, v := range form["industry"] {
		if slices.Contains(wechat.AmsCategories, v) && !slices.Contains(cats, v) {
			cats = append(cats, v)
		}
	}
	a, err := s.AdPanels.SetIndustries(c.Request().Context(), amsRequest(c), ams.Industries{Categories: cats})
	return s.panelWrite(c, "blocking", a, err, s.showBlocking(c))
}

// handleRatioSet sets the Mini Program's custom share ratio.
func (s *Server) handleRatioSet(c echo.Context) error {
	ratio, err := strconv.Atoi(strings.TrimSpace(c.FormValue("ratio")))
	if err != nil {
		ratio = -1 // refused as out of range, beside the field
	}
	a, err := s.AdPanels.SetShareRatio(c.Request().Context(), amsRequest(c), ams.ShareRatio{Ratio: ratio})
	return s.panelWrite(c, "share-ratio", a, err, s.showRatio(c))
}

// defaultRatio reads the platform's default share ratio for its panel.
func (s *Server) defaultRatio(c echo.Context) views.DefaultRatioVM {
	vm := views.DefaultRatioVM{Base: s.base(c, "Default share ratio", "platform"), FetchedAt: s.Now()}
	vm.Ratio, vm.Err = s.AdPanels.DefaultRatio(c.Request().Context())
	if vm.Err != nil {
		s.Log(c).Warn("read the default share ratio", "err", vm.Err)
	}
	return vm
}

// handleDefaultRatioShow is the platform's default share ratio (a partial
// for htmx, a page of its own otherwise).
func (s *Server) handleDefaultRatioShow(c echo.Context) error {
	vm := s.defaultRatio(c)
	if isHTMX(c) {
		return render(c, http.StatusOK, views.DefaultRatioPanel(vm))
	}
	return render(c, http.StatusOK, views.DefaultRatioPage(vm))
}

// handleDefaultRatioSet sets the platform's default share ratio.
func (s *Server) handleDefaultRatioSet(c echo.Context) error {
	ctx := c.Request().Context()
	ratio, err := strconv.Atoi(strings.TrimSpace(c.FormValue("ratio")))
	if err != nil {
		ratio = -1
	}
	old, err := s.AdPanels.SetDefaultRatio(ctx, core.StaffFrom(ctx), ratio, Meta(c))
	var ce *core.Error
	if errors.As(err, &ce) && ce.Field != "" && isHTMX(c) {
		vm := s.defaultRatio(c)
		vm.Errors = views.FieldErrors{ce.Field: vm.Base.Err(ce)}
		c.Response().Header().Set("HX-Error", "1")
		return render(c, http.StatusUnprocessableEntity, views.DefaultRatioPanel(vm))
	}
	if !isHTMX(c) || err != nil {
		return s.flashOrFail(c, err, "/platform/share-ratio", platformFlash("Default share ratio set; it takes effect for each Mini Program once its merchant confirms it.", "WeChat did not take the default share ratio; see the security log."))
	}
	vm := s.defaultRatio(c)
	vm.Changed, vm.Old, vm.New = true, old, ratio
	return render(c, http.StatusOK, views.DefaultRatioPanel(vm))
}
