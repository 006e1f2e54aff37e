package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/views"
)

// handleOwnAccountShow shows the signed-in staff member's own account.
func (s *Server) handleOwnAccountShow(c echo.Context) error {
	return render(c, http.StatusOK, views.OwnAccountPage(views.OwnAccountVM{Base: s.base(c, "Your account", "account"), Errors: views.FieldErrors{}}))
}

// handleOwnPasswordChange asks for the current password; on success every session
// of the staff member ends, this one included, and they sign in again.
func (s *Server) handleOwnPasswordChange(c echo.Context) error {
	st := core.StaffFrom(c.Request().Context())
	err := s.Auth.ChangeOwnPassword(c.Request().Context(), st, c.FormValue("current_password"), c.FormValue("password"), Meta(c))
	if err != nil {
		if core.ErrorCode(err) == core.EINTERNAL {
			return err
		}
		vm := views.OwnAccountVM{Base: s.base(c, "Your account", "account"), Errors: views.FieldErrors{}}
		var ce *core.Error
		if asCore(err, &ce) && ce.Field != "" {
			vm.Errors[ce.Field] = vm.Err(err)
		} else {
			vm.FormErr = vm.Err(err)
		}
		return render(c, statusOf(core.ErrorCode(err)), views.OwnAccountPage(vm))
	}
	return c.Redirect(http.StatusSeeOther, "/login?changed=1")
}
