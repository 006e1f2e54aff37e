package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// handleAMSRun is the bulk ad operation over the accounts selected on the
// Mini Programs page (or all matching its filter), in three steps on one
// route: the form choosing the operation and its settings, the
// confirmation with the count, rate and time it will take, and the start
// (with a one-time token, like check and open runs), which leads to the
// run's page.
func (s *Server) handleAMSRun(c echo.Context) error {
	ctx := c.Request().Context()
	sel := views.RunForm{State: c.FormValue("state"), Q: strings.TrimSpace(c.FormValue("q")), Status: c.FormValue("status")}
	vals, err := c.FormParams()
	if err != nil {
		return err
	}
	all := c.FormValue("all") == "1"
	if !all {
		sel.AppIDs = vals["appid"]
	}
	ids, desc := sel.AppIDs, ""
	if len(ids) > 0 {
		desc = jobs.SelectedDescription(len(ids))
	} else if filter, perr := traffic.ParseFilter(vals); perr == nil {
		if ids, err = s.Runs.MatchFilter(ctx, filter); err != nil {
			return err
		}
		desc = filter.Describe()
	}

	if c.FormValue("confirm") == "1" {
		return s.startAMSRun(c, sel, all, ids, desc)
	}
	form := views.AMSForm{
		Op: c.FormValue("op"), UnitName: strings.TrimSpace(c.FormValue("unit_name")), UnitSlot: c.FormValue("unit_slot"),
		VideoMin: strings.TrimSpace(c.FormValue("video_min")), VideoMax: c.FormValue("video_max"),
		SwitchSlot: c.FormValue("switch_slot"), SwitchOn: c.FormValue("switch_on"), CoverOn: c.FormValue("cover_on"),
		BlockAdd: c.FormValue("block_add"), BlockType: c.FormValue("block_type"), BlockIDs: c.FormValue("block_ids"),
		Categories: vals["categories"], Ratio: strings.TrimSpace(c.FormValue("ratio")),
	}
	fvm := views.AMSRunFormVM{Base: s.base(c, "Bulk ad operation", "runs"), Sel: sel, All: all, Count: len(ids), Form: form, FieldErrs: map[string]string{}}
	if c.FormValue("step") != "settings" {
		// Arriving from the Mini Programs page: the form, nothing to check yet.
		return render(c, http.StatusOK, views.AMSRunFormPage(fvm))
	}
	op, params, err := amsParams(form)
	if err == nil && len(ids) == 0 {
		err = core.FieldError("op", "Select at least one Mini Program.")
	}
	if err != nil {
		if core.ErrorCode(err) != core.EINVALID {
			return err
		}
		field := "op"
		var e *core.Error
		if errors.As(err, &e) && e.Field != "" {
			field = e.Field
		}
		fvm.FieldErrs[field] = fvm.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.AMSRunFormPage(fvm))
	}
	vm := views.AMSRunConfirmVM{Base: s.base(c, "Start a bulk run?", "runs"), Sel: sel, All: all, Count: len(ids), Op: op, Params: params, Token: newToken(), Rate: s.Runs.Rate()}
	if vm.Sample, err = s.Runs.Names(ctx, ids, confirmSample); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AMSRunConfirmPage(vm))
}

// startAMSRun starts the confirmed run, unless the filter now matches
// another number of accounts than the one confirmed.
func (s *Server) startAMSRun(c echo.Context, sel views.RunForm, all bool, ids []string, desc string) error {
	ctx := c.Request().Context()
	op, _ := ams.ParseOp(c.FormValue("op"))
	params := json.RawMessage(c.FormValue("params"))
	if !json.Valid(params) {
		return core.Errorf(core.EINVALID, "The operation's settings could not be read.")
	}
	token := c.FormValue("token")
	if c.FormValue("count") != strconv.Itoa(len(ids)) || token == "" || len(ids) == 0 {
		vm := views.AMSRunConfirmVM{Base: s.base(c, "Start a bulk run?", "runs"), Sel: sel, All: all, Count: len(ids), Op: op, Params: params, Token: newToken(), Rate: s.Runs.Rate(), Changed: true}
		var err error
		if vm.Sample, err = s.Runs.Names(ctx, ids, confirmSample); err != nil {
			return err
		}
		return render(c, http.StatusOK, views.AMSRunConfirmPage(vm))
	}
	run, existed, err := s.Runs.CreateOpOnce(ctx, core.StaffFrom(ctx), op, params, ids, desc, token)
	if err != nil {
		return s.flashOrFail(c, err, "/runs", flashRule{Shown: []string{core.EINVALID, core.EFORBIDDEN}})
	}
	if existed {
		s.setFlash(c, "info", s.base(c, "", "").T("This run was already started; here it is."))
	} else {
		s.Log(c).Info("bulk ad operation started", "run_id", run.ID, "op", run.Op, "total", run.Total)
	}
	return c.Redirect(http.StatusSeeOther, "/runs/"+strconv.FormatInt(run.ID, 10))
}

// amsParams turns the form into an operation and its settings, checked as
// the run will apply them.
func amsParams(f views.AMSForm) (ams.Op, json.RawMessage, error) {
	op, ok := ams.ParseOp(f.Op)
	if !ok || op == ams.OpCoverScenes {
		return "", nil, core.FieldError("op", "Choose an operation.")
	}
	num := func(field, v, msg string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, core.FieldError(field, "%s", msg)
		}
		return n, nil
	}
	var p any
	switch op {
	case ams.OpCreateUnit:
		u := ams.NewUnit{Name: f.UnitName, Slot: f.UnitSlot}
		if !slices.Contains(ams.UnitSlots, u.Slot) {
			return "", nil, core.FieldError("unit_slot", "Choose the kind of ad unit.")
		}
		if u.Slot == wechat.SlotRewardVideo {
			var err error
			if u.VideoMin, err = num("video_min", f.VideoMin, "Enter a number of seconds."); err != nil {
				return "", nil, err
			}
			if u.VideoMax, err = num("video_max", f.VideoMax, "Enter a number of seconds."); err != nil {
				return "", nil, err
			}
		}
		p = u
	case ams.OpSwitchSlot:
		p = ams.SlotSwitch{Slot: f.SwitchSlot, On: f.SwitchOn == "1"}
	case ams.OpSwitchCover:
		p = ams.CoverSwitch{On: f.CoverOn == "1"}
	case ams.OpBlocklist:
		kind, err := num("block_type", f.BlockType, "Choose the kind of advertiser.")
		if err != nil {
			return "", nil, err
		}
		b := ams.BlockChange{Add: f.BlockAdd != "0"}
		seen := map[string]bool{}
		for _, line := range strings.FieldsFunc(f.BlockIDs, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '，' }) {
			if id := strings.TrimSpace(line); id != "" && !seen[id] {
				seen[id] = true
				b.Entries = append(b.Entries, wechat.BlockEntry{Type: kind, ID: id})
			}
		}
		p = b
	case ams.OpIndustries:
		p = ams.Industries{Categories: append([]string{}, f.Categories...)}
	case ams.OpShareRatio:
		r, err := num("ratio", f.Ratio, "Enter a whole percentage from 0 to 100.")
		if err != nil {
			return "", nil, err
		}
		p = ams.ShareRatio{Ratio: r}
	}
	params, err := json.Marshal(p)
	if err != nil {
		return "", nil, err
	}
	if err := ams.Validate(op, params); err != nil {
		return "", nil, err
	}
	return op, params, nil
}
