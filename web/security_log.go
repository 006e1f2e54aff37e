package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/views"
)

// handleSecurityLog shows the security log, newest first, a page at a time.
func (s *Server) handleSecurityLog(c echo.Context) error {
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
