package web

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/static"
)

// routes lists every route of the console in one place. Each group states who
// may use it (web/roles_test.go checks each route against each role).
func (s *Server) routes() {
	e := s.Echo
	e.Pre(requestIDMiddleware)
	e.Use(s.accessLog, s.recoverPanic, s.securityHeaders, middleware.BodyLimit("1M"), langMiddleware)

	// No session, no CSRF: probes and assets.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/static/*", echo.WrapHandler(static.Handler()))

	// The WeChat push authenticates by its signature, not by a session.
	e.POST("/wechat/events", s.handleWeChatPush)

	app := e.Group("", s.csrf, s.loadSession, s.rejectBadInput)
	app.GET("/login", s.handleLoginForm)
	app.POST("/login", s.handleLogin)
	app.POST("/logout", s.handleLogout)
	app.POST("/lang", s.handleLangSet)

	viewer := app.Group("", s.requireRole(core.RoleViewer))
	operator := app.Group("", s.requireRole(core.RoleOperator))
	admin := app.Group("", s.requireRole(core.RoleAdmin))

	// Mini Programs (apps.go). The actions sit in the viewer group on
	// purpose: the traffic service refuses viewers itself (403) and records
	// the refusal in the audit, which a middleware refusal could not.
	viewer.GET("/", s.handleAppsList)
	viewer.GET("/apps/:appid", s.handleAppShow)
	viewer.POST("/apps/:appid/check", s.handleAttemptCheck)
	viewer.POST("/apps/:appid/open", s.handleAttemptOpen)

	// Audit history (audit.go).
	viewer.GET("/audit", s.handleAuditList)
	viewer.GET("/audit.csv", s.handleAuditCSV)
	viewer.GET("/audit/:id", s.handleAuditShow)

	// Bulk runs (runs.go) and scheduled jobs (jobs.go).
	viewer.GET("/runs", s.handleRunsList)
	viewer.GET("/runs/:id", s.handleRunShow)
	viewer.GET("/runs/:id/progress", s.handleRunProgress)
	operator.POST("/runs", s.handleRunCreate)
	operator.POST("/runs/:id/pause", s.handleRunPause)
	operator.POST("/runs/:id/resume", s.handleRunResume)
	operator.POST("/runs/:id/cancel", s.handleRunCancel)
	operator.POST("/runs/ams", s.handleAMSRun)
	admin.GET("/jobs", s.handleJobsList)

	// Revenue from WeChat's ad data (revenue.go); admins start backfills.
	viewer.GET("/revenue", s.handleRevenueDashboard)
	viewer.GET("/revenue.csv", s.handleRevenueCSV)
	viewer.GET("/revenue/settlement", s.handleRevenueSettlement)
	admin.POST("/revenue/pulls", s.handleRevenuePullCreate)
	viewer.GET("/apps/:appid/revenue.csv", s.handleAccountRevenueCSV)
	viewer.GET("/revenue/settlement.csv", s.handleSettlementCSV)

	// The signed-in staff member's own account (own_account.go).
	viewer.GET("/account", s.handleOwnAccountShow)
	viewer.POST("/account/password", s.handleOwnPasswordChange)

	// Staff (staff.go) and the security log (security_log.go).
	admin.GET("/staff", s.handleStaffList)
	admin.POST("/staff", s.handleStaffCreate)
	admin.POST("/staff/:id/role", s.handleStaffRoleSet)
	admin.POST("/staff/:id/password", s.handleStaffPasswordReset)
	admin.POST("/staff/:id/disable", s.handleStaffDisable)
	admin.POST("/staff/:id/enable", s.handleStaffEnable)
	admin.GET("/security-log", s.handleSecurityLog)

	// The WeChat platform (platform.go).
	admin.GET("/platform", s.handlePlatformShow)
	admin.POST("/platform/sync", s.handlePlatformSync)
	admin.POST("/platform/authorize", s.handlePlatformAuthorize)
	admin.GET("/platform/authorized", s.handlePlatformAuthorized)
	admin.POST("/platform/open-on-authorization", s.handleOpenOnAuthorizationSet) // autoopen.go

	// Cover ads, blocking and share ratio of a Mini Program (adpanels.go);
	// the writes sit with the viewers for the reason the actions above do.
	// The platform's default share ratio is the admins'.
	viewer.GET("/apps/:appid/ad-settings", s.handleAdSettings)
	viewer.GET("/apps/:appid/cover", s.handleCoverPanel)
	viewer.POST("/apps/:appid/cover", s.handleCoverSwitch)
	viewer.POST("/apps/:appid/cover/scenes", s.handleCoverScenes)
	viewer.GET("/apps/:appid/blocking", s.handleBlockingPanel)
	viewer.POST("/apps/:appid/blocking", s.handleBlocklistChange)
	viewer.POST("/apps/:appid/blocking/industries", s.handleIndustries)
	viewer.GET("/apps/:appid/share-ratio", s.handleRatioPanel)
	viewer.POST("/apps/:appid/share-ratio", s.handleRatioSet)
	admin.GET("/platform/share-ratio", s.handleDefaultRatioShow)
	admin.POST("/platform/share-ratio", s.handleDefaultRatioSet)

	// Ad units of a Mini Program (adunits.go). The writes sit in the viewer
	// group as opening does: the write path refuses viewers (403) and
	// records the refusal.
	viewer.GET("/apps/:appid/adunits", s.handleAdUnitsShow)
	viewer.POST("/apps/:appid/adunits", s.handleAdUnitCreate)
	viewer.POST("/apps/:appid/adunits/:unit/rename", s.handleAdUnitRename)
	viewer.POST("/apps/:appid/adunits/:unit/switch", s.handleAdUnitSwitch)
	viewer.GET("/apps/:appid/adunits/:unit/code", s.handleAdUnitCode)
	viewer.GET("/apps/:appid/templates", s.handleTemplatesShow)

	// Alert targets (alerts.go).
	admin.GET("/settings/alerts", s.handleAlertsShow)
	admin.POST("/settings/alerts", s.handleAlertCreate)
	admin.POST("/settings/alerts/:id/test", s.handleAlertTest)
	admin.POST("/settings/alerts/:id/enable", s.handleAlertEnable)
	admin.POST("/settings/alerts/:id/disable", s.handleAlertDisable)
	admin.POST("/settings/alerts/:id/delete", s.handleAlertDelete)

	// Unknown paths get the friendly 404 (with the session, for the navigation).
	app.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}
