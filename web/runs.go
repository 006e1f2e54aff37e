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

// Runs is the bulk-run and scheduled-jobs feature.
type Runs struct {
	Runs *jobs.Runs
	Jobs *jobs.Client
}

// Routes registers the run and job pages.
func (f *Runs) Routes(s *Server, r Routers) {
	h := &runHandlers{s: s, f: f}
	r.Viewer.GET("/runs", h.list)
	r.Viewer.GET("/runs/:id", h.show)
	r.Viewer.GET("/runs/:id/progress", h.progress)
	r.Operator.POST("/runs", h.create)
	r.Operator.POST("/runs/:id/pause", h.change((*jobs.Runs).Pause, "Run paused."))
	r.Operator.POST("/runs/:id/resume", h.change((*jobs.Runs).Resume, "Run resumed."))
	r.Operator.POST("/runs/:id/cancel", h.change((*jobs.Runs).Cancel, "Run cancelled."))
	r.Admin.GET("/jobs", h.jobs)
}

type runHandlers struct {
	s *Server
	f *Runs
}

func stateNames() []string {
	out := make([]string, len(traffic.States))
	for i, st := range traffic.States {
		out[i] = string(st)
	}
	return out
}

func (h *runHandlers) list(c echo.Context) error {
	runs, err := h.f.Runs.List(c.Request().Context(), 100, 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RunsPage(views.RunsVM{Base: h.s.base(c, "Bulk runs", "runs"), Runs: runs, States: stateNames()}))
}

// typeCountAbove is the size of an open run above which the confirmation
// asks for the number of accounts to be typed: opening cannot be undone.
const typeCountAbove = 50

// confirmSample is how many accounts the confirmation names.
const confirmSample = 5

// create asks for confirmation with the number of accounts, then starts the
// run. Rows selected on the Mini Programs page come as appid values;
// otherwise everything matching the filter is taken. The confirmation
// carries a one-time token, so submitting it twice starts one run.
func (h *runHandlers) create(c echo.Context) error {
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
		filter := jobs.Filter{State: form.State, Q: form.Q, Status: form.Status}
		if ids, err = h.f.Runs.MatchFilter(ctx, filter); err != nil {
			return err
		}
		desc = filter.Describe()
	}
	vm := views.RunConfirmVM{Base: h.s.base(c, "Start a bulk run?", "runs"), Form: form, Count: len(ids), Token: c.FormValue("token"),
		TypeCount: form.Action == string(traffic.ActionOpen) && len(ids) > typeCountAbove}
	if form.Action == string(traffic.ActionOpen) && len(ids) > 0 {
		if vm.Unknown, vm.NotOffered, err = h.f.Runs.OpenCautions(ctx, ids); err != nil {
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
		if vm.Sample, err = h.f.Runs.Names(ctx, ids, confirmSample); err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, views.RunConfirmPage(vm))
	}
	if !confirmed {
		vm.Token = newToken()
		if vm.Sample, err = h.f.Runs.Names(ctx, ids, confirmSample); err != nil {
			return err
		}
		return render(c, http.StatusOK, views.RunConfirmPage(vm))
	}
	run, existed, err := h.f.Runs.CreateOnce(ctx, core.StaffFrom(ctx), traffic.Action(form.Action), ids, desc, vm.Token)
	if err != nil {
		if code := core.ErrorCode(err); code == core.EINVALID || code == core.EFORBIDDEN {
			h.s.setFlash(c, "error", core.ErrorMessage(err))
			return c.Redirect(http.StatusSeeOther, "/runs")
		}
		return err
	}
	if existed {
		h.s.setFlash(c, "info", vm.T("This run was already started; here it is."))
	} else {
		h.s.Log(c).Info("bulk run started", "run_id", run.ID, "action", run.Action, "total", run.Total)
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

func (h *runHandlers) vm(c echo.Context) (views.RunVM, error) {
	id, err := runID(c)
	if err != nil {
		return views.RunVM{}, err
	}
	ctx := c.Request().Context()
	run, err := h.f.Runs.Get(ctx, id)
	if err != nil {
		return views.RunVM{}, err
	}
	items, err := h.f.Runs.Items(ctx, id, 50)
	if err != nil {
		return views.RunVM{}, err
	}
	return views.RunVM{Base: h.s.base(c, "Bulk runs", "runs"), Run: run, Items: items}, nil
}

func (h *runHandlers) show(c echo.Context) error {
	vm, err := h.vm(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RunPage(vm))
}

func (h *runHandlers) progress(c echo.Context) error {
	vm, err := h.vm(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RunProgress(vm))
}

func (h *runHandlers) change(op func(*jobs.Runs, context.Context, int64) error, okText string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := runID(c)
		if err != nil {
			return err
		}
		back := "/runs/" + strconv.FormatInt(id, 10)
		if err := op(h.f.Runs, c.Request().Context(), id); err != nil {
			if core.ErrorCode(err) != core.ECONFLICT {
				return err
			}
			h.s.setFlash(c, "error", core.ErrorMessage(err))
			return c.Redirect(http.StatusSeeOther, back)
		}
		h.s.Log(c).Info("bulk run changed", "run_id", id, "change", okText)
		h.s.setFlash(c, "ok", okText)
		return c.Redirect(http.StatusSeeOther, back)
	}
}

func (h *runHandlers) jobs(c echo.Context) error {
	list, err := h.f.Jobs.Schedules(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobsPage(views.JobsVM{Base: h.s.base(c, "Jobs", "jobs"), Schedules: list}))
}
