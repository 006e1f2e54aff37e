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

// handleStaffList shows the staff and the form to add one.
func (s *Server) handleStaffList(c echo.Context) error {
	vm, err := s.staffVM(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.StaffPage(vm))
}

// handleStaffCreate adds a staff member, or shows the form again with the
// message beside its field.
func (s *Server) handleStaffCreate(c echo.Context) error {
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

// staffChangeErrors are the refusals of a change to a staff member that
// the staff page reports (not found and internal errors fail the request).
var staffChangeErrors = []string{core.EINVALID, core.ECONFLICT, core.EUNAUTHORIZED, core.EFORBIDDEN, core.ETOOMANY}

// staffChange runs one change to a staff member and reports it with a flash.
func (s *Server) staffChange(c echo.Context, okText string, change func(actor *core.Staff, id int64) error) error {
	id, err := staffID(c)
	if err != nil {
		return err
	}
	err = change(core.StaffFrom(c.Request().Context()), id)
	return s.flashOrFail(c, err, "/staff", flashRule{OK: okText, Shown: staffChangeErrors})
}

// handleStaffRoleSet changes a staff member's role.
func (s *Server) handleStaffRoleSet(c echo.Context) error {
	return s.staffChange(c, "Role changed; their sessions have ended.", func(a *core.Staff, id int64) error {
		return s.Auth.SetRole(c.Request().Context(), a, id, core.Role(c.FormValue("role")), Meta(c))
	})
}

// handleStaffPasswordReset sets a staff member's password.
func (s *Server) handleStaffPasswordReset(c echo.Context) error {
	return s.staffChange(c, "Password reset; their sessions have ended.", func(a *core.Staff, id int64) error {
		return s.Auth.ResetPassword(c.Request().Context(), a, id, c.FormValue("password"), Meta(c))
	})
}

// handleStaffDisable disables a staff member.
func (s *Server) handleStaffDisable(c echo.Context) error {
	return s.staffChange(c, "Staff member disabled; their sessions have ended.", func(a *core.Staff, id int64) error {
		return s.Auth.SetDisabled(c.Request().Context(), a, id, true, Meta(c))
	})
}

// handleStaffEnable enables a disabled staff member.
func (s *Server) handleStaffEnable(c echo.Context) error {
	return s.staffChange(c, "Staff member enabled.", func(a *core.Staff, id int64) error {
		return s.Auth.SetDisabled(c.Request().Context(), a, id, false, Meta(c))
	})
}
