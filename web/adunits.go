package web

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// adUnitsChanged is the event a write's answer sends so the list reads itself again.
const adUnitsChanged = "adunits-changed"

var adUnitIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var errUnitNotFound = core.Errorf(core.ENOTFOUND, "Ad unit not found.")

var errNotAllowed = core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")

// adUnitsVM reads the units (and, for staff who may create, the platform's
// templates). When the console's records say the traffic master is not open,
// WeChat is asked only on request, and the stored list, if any, is shown.
func (s *Server) adUnitsVM(c echo.Context, acct *traffic.Account, refresh bool) (views.AdUnitsVM, error) {
	ctx := c.Request().Context()
	vm := views.AdUnitsVM{Base: s.base(c, "Ad units", "apps"), Account: acct, CanAct: canAct(c), Form: views.NewAdUnitForm(), Errors: views.FieldErrors{}}
	if vm.Refusal = acct.Refusal(); vm.Refusal != "" {
		return vm, nil
	}
	if !refresh && acct.State != traffic.StateOpen {
		snap, ok, err := s.AdUnits.StoredUnits(ctx, acct.AppID)
		if err != nil {
			return vm, err
		}
		vm.NotAsked = !ok
		vm.Units, vm.FetchedAt = snap.Value, snap.FetchedAt
	} else {
		snap, err := s.AdUnits.Units(ctx, acct.AppID, refresh)
		if err != nil {
			return vm, err
		}
		vm.Units, vm.FetchedAt, vm.Problem = snap.Value, snap.FetchedAt, snap.Err
	}
	if vm.CanAct && vm.Problem == nil && !vm.NotAsked {
		ts, err := s.AdUnits.Templates(ctx, acct.AppID, refresh)
		if err != nil {
			return vm, err
		}
		vm.Templates, vm.TemplatesErr = ts.Value, ts.Err
	}
	return vm, nil
}

// handleAdUnitsShow lists a Mini Program's ad units: the list for the
// account page's section (htmx), or a page of its own. refresh=1 asks WeChat again.
func (s *Server) handleAdUnitsShow(c echo.Context) error {
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	vm, err := s.adUnitsVM(c, acct, c.QueryParam("refresh") == "1")
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.AdUnitsBody(vm))
	}
	return render(c, http.StatusOK, views.AdUnitsPage(vm))
}

// adUnitForm reads the create form; only the fields of the chosen kind of ad count.
func adUnitForm(c echo.Context) (views.AdUnitForm, ams.NewUnit) {
	f := views.AdUnitForm{
		Name: strings.TrimSpace(c.FormValue("name")), Slot: c.FormValue("slot"),
		VideoMin: strings.TrimSpace(c.FormValue("video_duration_min")), VideoMax: c.FormValue("video_duration_max"),
		TmplMode: c.FormValue("tmpl_mode"), TmplType: strings.TrimSpace(c.FormValue("tmpl_type")), TmplID: c.FormValue("tmpl_id"),
	}
	n := ams.NewUnit{Name: f.Name, Slot: f.Slot}
	switch f.Slot {
	case wechat.SlotRewardVideo:
		n.VideoMin, _ = strconv.Atoi(f.VideoMin)
		n.VideoMax, _ = strconv.Atoi(f.VideoMax)
	case wechat.SlotTemplate:
		if f.TmplMode == "own" {
			n.TmplID = f.TmplID
		} else {
			n.TmplType, _ = strconv.Atoi(f.TmplType)
		}
	}
	return f, n
}

// handleAdUnitCreate creates an ad unit. A form WeChat would refuse comes
// back with each message beside its field (422) and is not audited; a
// viewer's request is refused (403) and, when well-formed, recorded as such.
func (s *Server) handleAdUnitCreate(c echo.Context) error {
	acct, err := s.writeAccount(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, n := adUnitForm(c)
	if errs := n.Check(); len(errs) > 0 {
		if !canAct(c) {
			return errNotAllowed
		}
		vm, err := s.adUnitsVM(c, acct, false)
		if err != nil {
			return err
		}
		vm.Form = form
		for _, e := range errs {
			if _, seen := vm.Errors[e.Field]; !seen {
				vm.Errors[e.Field] = vm.Err(e)
			}
		}
		if isHTMX(c) {
			// The form is shown again in place of itself, not in the result.
			h := c.Response().Header()
			h.Set("HX-Error", "1")
			h.Set("HX-Retarget", "#adunit-create")
			h.Set("HX-Reswap", "outerHTML")
			return render(c, http.StatusUnprocessableEntity, views.AdUnitCreateError(vm))
		}
		return render(c, http.StatusUnprocessableEntity, views.AdUnitsPage(vm))
	}
	a, id, err := s.AdUnits.CreateUnit(ctx, s.amsRequest(c, acct), n)
	if err != nil {
		return err
	}
	return s.adUnitWritten(c, acct, a, id)
}

// writeAccount loads the account a write is for. A viewer is refused before
// learning whether it exists, as the write path refuses them.
func (s *Server) writeAccount(c echo.Context) (*traffic.Account, error) {
	acct, err := s.account(c)
	if err != nil {
		return nil, forbiddenUnlessOperator(c, err)
	}
	return acct, nil
}

// forbiddenUnlessOperator turns a not-found into the role refusal for staff who may not write.
func forbiddenUnlessOperator(c echo.Context, err error) error {
	if !canAct(c) && core.ErrorCode(err) == core.ENOTFOUND {
		return errNotAllowed
	}
	return err
}

func (s *Server) amsRequest(c echo.Context, acct *traffic.Account) ams.Request {
	ctx := c.Request().Context()
	return ams.Request{AppID: acct.AppID, Staff: core.StaffFrom(ctx), Meta: Meta(c)}
}

// adUnitWritten answers a write: for htmx the result where the button was,
// and the list reads itself again; otherwise the result as a flash on the
// list's own page.
func (s *Server) adUnitWritten(c echo.Context, acct *traffic.Account, a *traffic.Attempt, newID string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Trigger", adUnitsChanged)
		vm := views.AdUnitResultVM{Base: s.base(c, "Ad units", "apps"), Attempt: a, NewID: newID}
		return render(c, http.StatusOK, views.AdUnitResult(vm))
	}
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
	if newID != "" {
		text += " " + b.T("New ad unit:") + " " + newID
	}
	text += " " + b.T("Audit entry #%d", a.ID)
	s.setFlash(c, views.FlashKind(a.Outcome), text)
	return c.Redirect(http.StatusSeeOther, "/apps/"+acct.AppID+"/adunits")
}

// currentUnit reads the unit as WeChat has it now (a change sends its name
// and status together, so both must be current). When WeChat cannot list
// the units, the stored list stands in, and failing that what the form
// showed (shown): the write is still made, and its outcome audited.
func (s *Server) currentUnit(ctx context.Context, appID, id string, shown wechat.AdUnit) (wechat.AdUnit, error) {
	snap, err := s.AdUnits.Units(ctx, appID, true)
	if err != nil {
		return wechat.AdUnit{}, err
	}
	for _, u := range snap.Value {
		if u.AdUnitID == id {
			return u, nil
		}
	}
	if snap.Err != nil && shown.Name != "" {
		shown.AdUnitID = id
		return shown, nil
	}
	return wechat.AdUnit{}, errUnitNotFound
}

// shownUnit is the unit as the form that posted showed it.
func shownUnit(c echo.Context) wechat.AdUnit {
	u := wechat.AdUnit{Name: strings.TrimSpace(c.FormValue("name")), Status: wechat.AdUnitOff}
	if c.FormValue("on") == "1" {
		u.Status = wechat.AdUnitOn
	}
	return u
}

// unitParam is the ad unit named in the path; a malformed id is not found.
func unitParam(c echo.Context) (string, error) {
	id := c.Param("unit")
	if !adUnitIDPattern.MatchString(id) {
		return "", errUnitNotFound
	}
	return id, nil
}

// handleAdUnitRename renames an ad unit (its status unchanged).
func (s *Server) handleAdUnitRename(c echo.Context) error {
	acct, err := s.writeAccount(c)
	if err != nil {
		return err
	}
	id, err := unitParam(c)
	if err != nil {
		return forbiddenUnlessOperator(c, err)
	}
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("name"))
	if !canAct(c) {
		// Recorded as refused, with what was asked; WeChat is not read for it.
		_, err := s.AdUnits.ChangeUnit(ctx, s.amsRequest(c, acct), ams.UnitChange{AdUnitID: id, Name: name})
		return forbiddenUnless(err)
	}
	if err := ams.CheckUnitName(name); err != nil {
		return err
	}
	u, err := s.currentUnit(ctx, acct.AppID, id, shownUnit(c))
	if err != nil {
		return err
	}
	a, err := s.AdUnits.ChangeUnit(ctx, s.amsRequest(c, acct), ams.UnitChange{AdUnitID: id, Name: name, On: u.On()})
	if err != nil {
		return err
	}
	return s.adUnitWritten(c, acct, a, "")
}

// forbiddenUnless turns a viewer's refused write into the role refusal,
// whatever else was wrong with it.
func forbiddenUnless(err error) error {
	if err == nil || core.ErrorCode(err) == core.EINVALID {
		return errNotAllowed
	}
	return err
}

// handleAdUnitSwitch switches an ad unit on or off (its name unchanged);
// switching off asks for confirmation first.
func (s *Server) handleAdUnitSwitch(c echo.Context) error {
	acct, err := s.writeAccount(c)
	if err != nil {
		return err
	}
	id, err := unitParam(c)
	if err != nil {
		return forbiddenUnlessOperator(c, err)
	}
	ctx := c.Request().Context()
	on := c.FormValue("on") == "1"
	if !canAct(c) {
		name := strings.TrimSpace(c.FormValue("name"))
		if name == "" {
			name = id
		}
		_, err := s.AdUnits.ChangeUnit(ctx, s.amsRequest(c, acct), ams.UnitChange{AdUnitID: id, Name: name, On: on})
		return forbiddenUnless(err)
	}
	u, err := s.currentUnit(ctx, acct.AppID, id, shownUnit(c))
	if err != nil {
		return err
	}
	if !on && c.FormValue("confirmed") != "1" {
		// Without JavaScript there is no confirm dialog: ask with a page
		// (or, for a request without the dialog's answer, in the result).
		vm := views.AdUnitConfirmVM{Base: s.base(c, "Switch off", "apps"), Account: acct, AdUnitID: id, Name: u.Name}
		if isHTMX(c) {
			return render(c, http.StatusOK, views.AdUnitConfirmOff(vm))
		}
		return render(c, http.StatusOK, views.AdUnitConfirmOffPage(vm))
	}
	a, err := s.AdUnits.ChangeUnit(ctx, s.amsRequest(c, acct), ams.UnitChange{AdUnitID: id, Name: u.Name, On: on})
	if err != nil {
		return err
	}
	return s.adUnitWritten(c, acct, a, "")
}

// handleAdUnitCode shows the snippet that puts the unit in the Mini Program.
func (s *Server) handleAdUnitCode(c echo.Context) error {
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	id, err := unitParam(c)
	if err != nil {
		return err
	}
	vm := views.AdUnitCodeVM{Base: s.base(c, "Ad units", "apps"), Account: acct, AdUnitID: id}
	if vm.Code, err = s.AdUnits.UnitCode(c.Request().Context(), acct.AppID, id); err != nil {
		if core.ErrorCode(err) != core.EINTERNAL {
			return err
		}
		vm.Problem = err
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.AdUnitCode(vm))
	}
	return render(c, http.StatusOK, views.AdUnitCodePage(vm))
}

// handleTemplatesShow lists the platform's own templates and which of the
// Mini Program's units use each.
func (s *Server) handleTemplatesShow(c echo.Context) error {
	acct, err := s.account(c)
	if err != nil {
		return err
	}
	vm := views.TemplatesVM{Base: s.base(c, "Custom templates", "apps"), Account: acct}
	if vm.Refusal = acct.Refusal(); vm.Refusal == "" {
		refresh := c.QueryParam("refresh") == "1"
		if !refresh && acct.State != traffic.StateOpen {
			// As for the units: WeChat is asked on request only.
			vm.NotAsked = true
		} else {
			snap, err := s.AdUnits.Templates(c.Request().Context(), acct.AppID, refresh)
			if err != nil {
				return err
			}
			vm.Templates, vm.FetchedAt, vm.Problem = snap.Value, snap.FetchedAt, snap.Err
		}
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.TemplatesBody(vm))
	}
	return render(c, http.StatusOK, views.TemplatesPage(vm))
}
