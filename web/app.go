package web

import "github.com/trafficmaster/trafficmaster/internal/app"

// ForApp builds the console over the program's parts: the one place the web
// layer meets the concrete stores and services, each passed on as the
// interface its handlers declare (services.go).
func ForApp(a *app.App) *Server {
	return New(Deps{
		Config: a.Config, Logger: a.Log, Loc: a.Loc, Now: a.Now,
		DB: a.Pool, Sessions: a.Sessions, Auth: a.Auth, Staff: a.Staff,
		Accounts: a.Attempts, Audit: a.Attempts, Attempter: a.Traffic,
		Runs: a.Jobs.Runs, Schedules: a.Jobs, Platform: a.Platform,
		Revenue: a.Revenue, RevenueData: a.RevenueStore, RevenuePulls: a.Jobs,
		AdPanels: a.AMS,
		AdUnits:  a.AMS,
		Alerts:   a.Alerts,
	})
}
