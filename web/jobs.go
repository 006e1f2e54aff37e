package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/views"
)

// handleJobsList shows the scheduled jobs and how each last ran.
func (s *Server) handleJobsList(c echo.Context) error {
	list, err := s.Schedules.Schedules(c.Request().Context())
	if err != nil {
		return err
	}
	pulls, err := s.RevenuePulls.RevenuePulls(c.Request().Context(), 20)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobsPage(views.JobsVM{Base: s.base(c, "Jobs", "jobs"), Schedules: list, Pulls: pulls}))
}
