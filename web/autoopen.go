package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/views"
)

// handleOpenOnAuthorizationSet switches opening on authorization on or off
// (admins only, by route). Without confirmed=1 it shows the confirmation
// page; the confirmed form changes the setting and returns to the platform.
func (s *Server) handleOpenOnAuthorizationSet(c echo.Context) error {
	on := c.FormValue("on") == "1"
	if c.FormValue("confirmed") != "1" {
		base := s.base(c, "Open on authorization", "platform")
		base.Path = "/platform" // a language switch returns to a page that can be loaded again
		return render(c, http.StatusOK, views.OpenOnAuthorizationConfirmPage(views.OpenOnAuthorizationConfirmVM{Base: base, On: on}))
	}
	ctx := c.Request().Context()
	err := s.Platform.SetOpenOnAuthorization(ctx, core.StaffFrom(ctx), on, Meta(c))
	ok := "Opening on authorization is off."
	if on {
		ok = "Opening on authorization is on: newly authorized Mini Programs are checked and opened by the system."
	}
	return s.flashOrFail(c, err, "/platform", platformFlash(ok, "The setting could not be changed; try again."))
}
