package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/views"
)

func (s *Server) staffVM(c echo.Context) (views.StaffVM, error) {
	list, err := s.Staff.ListStaff(c.Request().Context())
	return views.StaffVM{Base: s.base(c, "Staff", "staff"), Staff: list, Form: views.StaffForm{Role: string(core.RoleOperator)}, Errors: views.FieldErrors{}}, err
}

func (s *Server) listStaff(c echo.Context) error {
	vm, err := s.staffVM(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.StaffPage(vm))
}

func (s *Server) createStaff(c echo.Context) error {
	actor := core.StaffFrom(c.Request().Context())
	form := views.StaffForm{Username: c.FormValue("username"), Role: c.FormValue("role")}
	_, err := s.Auth.CreateStaff(c.Request().Context(), actor, form.Username, c.FormValue("password"), core.Role(form.Role), Meta(c))
	if err != nil {
		if core.ErrorCode(err) == core.EINTERNAL {
			return err
		}
		// Re-render the form with the message beside its field.
		vm, lerr := s.staffVM(c)
		if lerr != nil {
			return lerr
		}
		vm.Form = form
		var ce *core.Error
		if ok := asCore(err, &ce); ok && ce.Field != "" {
			vm.Errors[ce.Field] = vm.Err(err)
		} else {
			vm.FormErr = vm.Err(err)
		}
		return render(c, statusOf(core.ErrorCode(err)), views.StaffPage(vm))
	}
	s.setFlash(c, "ok", "Staff member added.")
	return c.Redirect(http.StatusSeeOther, "/staff")
}

func staffID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, core.Errorf(core.ENOTFOUND, "Staff member not found.")
	}
	return id, nil
}

// staffChange runs one change to a staff member and reports it with a flash.
func (s *Server) staffChange(c echo.Context, okText string, change func(actor *core.Staff, id int64) error) error {
	id, err := staffID(c)
	if err != nil {
		return err
	}
	if err := change(core.StaffFrom(c.Request().Context()), id); err != nil {
		code := core.ErrorCode(err)
		if code == core.EINTERNAL || code == core.ENOTFOUND {
			return err
		}
		s.setFlash(c, "error", core.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, "/staff")
	}
	s.setFlash(c, "ok", okText)
	return c.Redirect(http.StatusSeeOther, "/staff")
}

func (s *Server) setStaffRole(c echo.Context) error {
	return s.staffChange(c, "Role changed; their sessions have ended.", func(a *core.Staff, id int64) error {
		return s.Auth.SetRole(c.Request().Context(), a, id, core.Role(c.FormValue("role")), Meta(c))
	})
}

func (s *Server) resetStaffPassword(c echo.Context) error {
	return s.staffChange(c, "Password reset; their sessions have ended.", func(a *core.Staff, id int64) error {
		return s.Auth.ResetPassword(c.Request().Context(), a, id, c.FormValue("password"), Meta(c))
	})
}

func (s *Server) disableStaff(c echo.Context) error {
	return s.staffChange(c, "Staff member disabled; their sessions have ended.", func(a *core.Staff, id int64) error {
		return s.Auth.SetDisabled(c.Request().Context(), a, id, true, Meta(c))
	})
}

func (s *Server) enableStaff(c echo.Context) error {
	return s.staffChange(c, "Staff member enabled.", func(a *core.Staff, id int64) error {
		return s.Auth.SetDisabled(c.Request().Context(), a, id, false, Meta(c))
	})
}

func (s *Server) securityLog(c echo.Context) error {
	const pageSize = 50
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	events, err := s.Staff.ListSecurity(c.Request().Context(), before, pageSize+1)
	if err != nil {
		return err
	}
	vm := views.SecurityLogVM{Base: s.base(c, "Security log", "security"), IsFirst: before <= 0}
	if len(events) > pageSize {
		events = events[:pageSize]
		vm.NextID = events[pageSize-1].ID
	}
	vm.Events = events
	return render(c, http.StatusOK, views.SecurityLogPage(vm))
}
