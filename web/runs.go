package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/views"
)

func stateNames() []string {
	out := make([]string, len(traffic.States))
	for i, st := range traffic.States {
		out[i] = string(st)
	}
	return out
}

// handleRunsList lists the latest bulk runs.
func (s *Server) handleRunsList(c echo.Context) error {
	runs, err := s.Runs.List(c.Request().Context(), 100, 0)
	if err != nil {
		return err
	}
	auto, err := s.Platform.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RunsPage(views.RunsVM{Base: s.base(c, "Bulk runs", "runs"), Runs: runs, States: stateNames(), AutoOpen: auto}))
}

// typeCountAbove is the size of an open run above which the confirmation
// asks for the number of accounts to be typed: opening cannot be undone.
const typeCountAbove = 50

// confirmSample is how many accounts the confirmation names.
const confirmSample = 5

// handleRunCreate asks for confirmation with the number of accounts, then starts the
// run. Rows selected on the Mini Programs page come as appid values;
// otherwise everything matching the filter is taken. The confirmation
// carries a one-time token, so submitting it twice starts one run.
func (s *Server) handleRunCreate(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.RunForm{Action: c.FormValue("action"), State: c.FormValue("state"), Q: strings.TrimSpace(c.FormValue("q")), Status: c.FormValue("status")}
	if form.Action != string(traffic.ActionOpen) {
		form.Action = string(traffic.ActionCheck)
	}
	params, err := c.FormParams()
	if err != nil {
		return err
	}
	// "All matching" wins over rows ticked on the page: the run takes the filter.
	if c.FormValue("all") != "1" {
		form.AppIDs = params["appid"]
	}
	ids, desc := form.AppIDs, ""
	if len(ids) > 0 {
		desc = jobs.SelectedDescription(len(ids))
	} else {
		// A filter the list would not have sent (an unknown state or
		// status) matches nothing rather than more than was asked for.
		if filter, perr := traffic.ParseFilter(params); perr == nil {
			if ids, err = s.Runs.MatchFilter(ctx, filter); err != nil {
				return err
			}
			desc = filter.Describe()
		}
	}
	vm := views.RunConfirmVM{Base: s.base(c, "Start a bulk run?", "runs"), Form: form, Count: len(ids), Token: c.FormValue("token"),
		TypeCount: form.Action == string(traffic.ActionOpen) && len(ids) > typeCountAbove}
	if form.Action == string(traffic.ActionOpen) && len(ids) > 0 {
		if vm.Unknown, vm.NotOffered, err = s.Runs.OpenCautions(ctx, ids); err != nil {
			return err
		}
	}
	confirmed := c.FormValue("confirm") == "1" && len(ids) > 0 && vm.Token != ""
	if confirmed && c.FormValue("count") != strconv.Itoa(len(ids)) {
		// The filter matches another number of accounts than the one confirmed.
		vm.Changed, confirmed = true, false
	}
	if confirmed && vm.TypeCount && strings.TrimSpace(c.FormValue("typed_count")) != strconv.Itoa(len(ids)) {
		vm.TypedErr = vm.T("Type %d, the number of accounts, to confirm.", len(ids))
		if vm.Sample, err = s.Runs.Names(ctx, ids, confirmSample); err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, views.RunConfirmPage(vm))
	}
	if !confirmed {
		vm.Token = newToken()
		if vm.Sample, err = s.Runs.Names(ctx, ids, confirmSample); err != nil {
			return err
		}
		return render(c, http.StatusOK, views.RunConfirmPage(vm))
	}
	run, existed, err := s.Runs.CreateOnce(ctx, core.StaffFrom(ctx), traffic.Action(form.Action), ids, desc, vm.Token)
	if err != nil {
		return s.flashOrFail(c, err, "/runs", flashRule{Shown: []string{core.EINVALID, core.EFORBIDDEN}})
	}
	if existed {
		s.setFlash(c, "info", vm.T("This run was already started; here it is."))
	} else {
		s.Log(c).Info("bulk run started", "run_id", run.ID, "action", run.Action, "total", run.Total)
	}
	return c.Redirect(http.StatusSeeOther, "/runs/"+strconv.FormatInt(run.ID, 10))
}

// newToken is a one-time token for a confirmation form.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, core.Errorf(core.ENOTFOUND, "Run not found.")
	}
	return id, nil
}

func (s *Server) runVM(c echo.Context) (views.RunVM, error) {
	id, err := runID(c)
	if err != nil {
		return views.RunVM{}, err
	}
	ctx := c.Request().Context()
	run, err := s.Runs.Get(ctx, id)
	if err != nil {
		return views.RunVM{}, err
	}
	items, err := s.Runs.Items(ctx, id, 50)
	if err != nil {
		return views.RunVM{}, err
	}
	return views.RunVM{Base: s.base(c, "Bulk runs", "runs"), Run: run, Items: items}, nil
}

// handleRunShow is one run's page.
func (s *Server) handleRunShow(c echo.Context) error {
	vm, err := s.runVM(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RunPage(vm))
}

// handleRunProgress is the run's progress partial, polled while it runs.
func (s *Server) handleRunProgress(c echo.Context) error {
	vm, err := s.runVM(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RunProgress(vm))
}

// handleRunPause pauses a run.
func (s *Server) handleRunPause(c echo.Context) error {
	return s.runChange(c, s.Runs.Pause, "Run paused.")
}

// handleRunResume resumes a paused run.
func (s *Server) handleRunResume(c echo.Context) error {
	return s.runChange(c, s.Runs.Resume, "Run resumed.")
}

// handleRunCancel cancels a run.
func (s *Server) handleRunCancel(c echo.Context) error {
	return s.runChange(c, s.Runs.Cancel, "Run cancelled.")
}

// runChange makes one change to a run; a change the run's state refuses
// (a conflict) is reported on the run's page.
func (s *Server) runChange(c echo.Context, op func(context.Context, int64) error, okText string) error {
	id, err := runID(c)
	if err != nil {
		return err
	}
	err = op(c.Request().Context(), id)
	if err == nil {
		s.Log(c).Info("bulk run changed", "run_id", id, "change", okText)
	}
	return s.flashOrFail(c, err, "/runs/"+strconv.FormatInt(id, 10), flashRule{OK: okText, Shown: []string{core.ECONFLICT}})
}
