package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/views"
)

const alertsPath = "/settings/alerts"

func (s *Server) alertsVM(c echo.Context) (views.AlertsVM, error) {
	list, err := s.Alerts.Targets(c.Request().Context())
	vm := views.AlertsVM{Base: s.base(c, "Alerts", "alerts"), Targets: list, Errors: views.FieldErrors{},
		Form: views.AlertForm{Kind: string(alert.KindWeCom), Events: []alert.EventKind{alert.EventRunFinished, alert.EventRunPaused, alert.EventPlatformError}}}
	return vm, err
}

// handleAlertsShow lists the alert targets and the form to add one.
func (s *Server) handleAlertsShow(c echo.Context) error {
	vm, err := s.alertsVM(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AlertsPage(vm))
}

// handleAlertCreate adds a target. A webhook's generated secret is shown on
// this answer alone (never stored in the session nor rendered again), so
// the answer is the page itself, not a redirect.
func (s *Server) handleAlertCreate(c echo.Context) error {
	params, err := c.FormParams()
	if err != nil {
		return err
	}
	form := views.AlertForm{Name: params.Get("name"), Kind: params.Get("kind"), URL: params.Get("url")}
	for _, e := range params["events"] {
		form.Events = append(form.Events, alert.EventKind(e))
	}
	t, secret, err := s.Alerts.AddTarget(c.Request().Context(), core.StaffFrom(c.Request().Context()), alert.NewTarget{
		Name: form.Name, Kind: alert.TargetKind(form.Kind), URL: form.URL, Secret: params.Get("secret"), Events: form.Events,
	})
	if err != nil {
		if code := core.ErrorCode(err); code == core.EINTERNAL || code == core.EFORBIDDEN {
			return err
		}
		vm, lerr := s.alertsVM(c)
		if lerr != nil {
			return lerr
		}
		vm.Form = form
		var ce *core.Error
		if asCore(err, &ce) && ce.Field != "" {
			vm.Errors[ce.Field] = vm.Err(err)
		} else {
			vm.FormErr = vm.Err(err)
		}
		return render(c, statusOf(core.ErrorCode(err)), views.AlertsPage(vm))
	}
	if secret == "" {
		s.setFlash(c, "ok", "Alert target added.")
		return c.Redirect(http.StatusSeeOther, alertsPath)
	}
	vm, err := s.alertsVM(c)
	if err != nil {
		return err
	}
	vm.Flash = &views.Flash{Kind: "ok", Text: vm.T("Alert target added.")}
	vm.Added, vm.NewSecret = t, secret
	vm.Path = alertsPath // a language switch reloads the page, not the form post
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.AlertsPage(vm))
}

// alertChange runs one change to a target and reports it with a flash.
func (s *Server) alertChange(c echo.Context, okText string, change func(st *core.Staff, id int64) error) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return core.Errorf(core.ENOTFOUND, "Alert target not found.")
	}
	err = change(core.StaffFrom(c.Request().Context()), id)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return err
	}
	return s.flashOrFail(c, err, alertsPath, flashRule{OK: okText, Shown: []string{core.EINVALID, core.ECONFLICT}})
}

// handleAlertTest queues a test alert to one target.
func (s *Server) handleAlertTest(c echo.Context) error {
	return s.alertChange(c, "Test alert queued; its delivery shows here in a few seconds.", func(st *core.Staff, id int64) error {
		return s.Alerts.SendTest(c.Request().Context(), st, id)
	})
}

// handleAlertEnable switches a target on.
func (s *Server) handleAlertEnable(c echo.Context) error {
	return s.alertChange(c, "Alert target switched on.", func(st *core.Staff, id int64) error {
		return s.Alerts.SetEnabled(c.Request().Context(), st, id, true)
	})
}

// handleAlertDisable switches a target off.
func (s *Server) handleAlertDisable(c echo.Context) error {
	return s.alertChange(c, "Alert target switched off.", func(st *core.Staff, id int64) error {
		return s.Alerts.SetEnabled(c.Request().Context(), st, id, false)
	})
}

// handleAlertDelete deletes a target.
func (s *Server) handleAlertDelete(c echo.Context) error {
	return s.alertChange(c, "Alert target deleted.", func(st *core.Staff, id int64) error {
		return s.Alerts.DeleteTarget(c.Request().Context(), st, id)
	})
}
