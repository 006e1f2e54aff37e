// Package web is the console's HTTP layer: echo routes, middleware, handlers
// and the one error handler. Handlers are thin: bind, validate, call one
// service method, render.
package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/views"
)

// Deps are what the server is built from: its configuration and the
// services its handlers call, each an interface declared in services.go.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Loc    *time.Location
	// Now replaces the clock (for the platform page's ages).
	Now func() time.Time

	DB        Pinger
	Sessions  SessionStore
	Auth      AuthService
	Staff     StaffDirectory
	Accounts  Accounts
	Audit     AuditLog
	Attempter Attempter
	Runs      RunService
	Schedules ScheduleService
	Platform  PlatformService
	// Revenue, RevenueData and RevenuePulls serve the revenue pages (revenue.go).
	Revenue      RevenueService
	RevenueData  RevenueData
	RevenuePulls RevenuePulls
	// AdPanels serves the cover-ad, blocking and share-ratio panels (adpanels.go).
	AdPanels AdPanels
	// AdUnits serves the ad units of a Mini Program (adunits.go).
	AdUnits AdUnitService
	// Alerts manages the alert targets (alerts.go).
	Alerts AlertService
}

// Server is the console's HTTP server: one type whose handleX methods serve
// every route listed in routes.go.
type Server struct {
	Deps
	Echo *echo.Echo
	// csrfKey signs CSRF tokens; derived from the secret once, not per request.
	csrfKey []byte
}

const sessionCookie = "tm_session"
const langCookie = "tm_lang"

// New builds the echo server with every route.
func New(d Deps) *Server {
	if d.Loc == nil {
		d.Loc, _ = time.LoadLocation(d.Config.TimeZone)
		if d.Loc == nil {
			d.Loc = time.UTC
		}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{Deps: d, Echo: e, csrfKey: d.Config.Key("csrf")}
	e.IPExtractor = clientIP(d.Config.TrustedProxies)
	e.HTTPErrorHandler = s.handleError
	s.routes()
	return s
}

// ServeHTTP lets the server be used as an http.Handler (tests drive it so).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.Echo.ServeHTTP(w, r) }

// Run serves on addr until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: s.Echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// base builds the view model every page shares.
func (s *Server) base(c echo.Context, title, nav string) views.Base {
	b := views.Base{
		Title:     title,
		Lang:      langOf(c),
		Staff:     core.StaffFrom(c.Request().Context()),
		Nav:       nav,
		Loc:       s.Loc,
		RequestID: requestID(c),
		Path:      c.Request().URL.RequestURI(),
	}
	if t, ok := c.Get("csrf").(string); ok {
		b.CSRF = t
	}
	b.Title = b.T(title)
	// An htmx partial never shows the flash, so it stays for the next page.
	if isHTMX(c) {
		return b
	}
	if f := popFlash(c); f != nil {
		b.Flash = &views.Flash{Kind: f.Kind, Text: b.T(f.Text)}
	}
	return b
}

// T translates for the current request.
func T(c echo.Context, key string, args ...any) string { return i18n.T(langOf(c), key, args...) }

// render writes a templ component with a status.
func render(c echo.Context, status int, comp templ.Component) error {
	// The page is rendered into a buffer and sent in one write with its
	// length: templ writes many small pieces, and written straight to the
	// connection they cost about a quarter of a page's CPU in socket writes.
	// A page that fails to render has sent nothing, so the error handler
	// can still answer with an error page.
	buf := renderBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledRender {
			buf.Reset()
			renderBufs.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// renderBufs keeps render buffers between requests; one that grew past
// maxPooledRender (an unusually large page) is left to the collector.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledRender = 1 << 20

// isHTMX reports whether htmx sent the request (and wants a partial).
func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// Meta describes the request for the audit and security logs.
func Meta(c echo.Context) core.Meta {
	return core.Meta{ClientIP: core.CleanText(c.RealIP(), 64), RequestID: requestID(c)}
}

// Log returns the request's logger (with request and staff IDs). It is
// built when first asked for, not for every request: most requests log
// nothing but the access log line.
func (s *Server) Log(c echo.Context) *slog.Logger {
	st := core.StaffFrom(c.Request().Context())
	if l, ok := c.Get("logger").(requestLogger); ok && l.staff == st {
		return l.Logger
	}
	l := s.Logger.With("request_id", requestID(c))
	if st != nil {
		l = l.With("staff_id", st.ID)
	}
	c.Set("logger", requestLogger{l, st})
	return l
}

// requestLogger is a request's logger and the staff member it names.
type requestLogger struct {
	*slog.Logger
	staff *core.Staff
}
