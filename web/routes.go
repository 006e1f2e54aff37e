package web

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/static"
)

// routes lists every route of the console in one place. Each group states who
// may use it; features add theirs through Feature.Routes with the same groups.
func (s *Server) routes() {
	e := s.Echo
	e.Pre(requestIDMiddleware)
	e.Use(s.accessLog, s.recoverPanic, s.securityHeaders, middleware.BodyLimit("1M"), langMiddleware)

	// No session, no CSRF: probes and assets.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/*", echo.WrapHandler(static.Handler()))

	public := e.Group("") // the WeChat push authenticates by its signature
	app := e.Group("", s.csrf, s.loadSession, s.rejectBadInput)
	app.GET("/login", s.loginForm)
	app.POST("/login", s.login)
	app.POST("/logout", s.logout)
	app.POST("/lang", s.setLang)

	viewer := app.Group("", s.requireRole(core.RoleViewer))
	operator := app.Group("", s.requireRole(core.RoleOperator))
	admin := app.Group("", s.requireRole(core.RoleAdmin))

	viewer.GET("/account", s.accountPage)
	viewer.POST("/account/password", s.changeOwnPassword)

	admin.GET("/staff", s.listStaff)
	admin.POST("/staff", s.createStaff)
	admin.POST("/staff/:id/role", s.setStaffRole)
	admin.POST("/staff/:id/password", s.resetStaffPassword)
	admin.POST("/staff/:id/disable", s.disableStaff)
	admin.POST("/staff/:id/enable", s.enableStaff)
	admin.GET("/security-log", s.securityLog)

	for _, f := range s.Features {
		f.Routes(s, Routers{Public: public, Viewer: viewer, Operator: operator, Admin: admin})
	}

	// Unknown paths get the friendly 404 (with the session, for the navigation).
	app.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}
