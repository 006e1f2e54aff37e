package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// flash is a message carried to the next page in the session, stored as
// "kind\x00text" so the session codec needs no registered types.
type flash struct{ Kind, Text string }

// contentSecurityPolicy allows only self-hosted scripts and styles, and
// images from the console and WeChat's image hosts (over https) alone.
var contentSecurityPolicy = func() string {
	img := "img-src 'self'"
	for _, h := range wechat.ImageHosts {
		img += " https://" + h
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; " + img +
		"; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}()

// securityHeaders sets the CSP and friends.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.Config.Secure() {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

// accessLog logs each request once with its request and staff IDs, and puts a
// logger carrying both into the context for handlers.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		l := s.Logger.With("request_id", requestID(c))
		c.Set("logger", l)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		attrs := []any{"method", c.Request().Method, "path", c.Request().URL.Path, "status", c.Response().Status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "ip", c.RealIP(), "bytes", c.Response().Size}
		if st := core.StaffFrom(c.Request().Context()); st != nil {
			attrs = append(attrs, "staff_id", st.ID)
		}
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		l.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// recoverPanic turns a panic into a logged 500.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// loadSession puts the signed-in staff member (if any) into the request context.
// A disabled member, or a session whose staff member vanished, counts as none.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.Sessions.Get(c.Request(), sessionCookie)
		if err != nil {
			return err
		}
		c.Set("session", sess)
		if id, ok := sess.Values[postgres.StaffIDKey].(int64); ok && !sess.IsNew {
			st, err := s.Staff.StaffByID(c.Request().Context(), id)
			if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
				return err
			}
			if st != nil && !st.Disabled {
				ctx := core.WithStaff(c.Request().Context(), st)
				c.SetRequest(c.Request().WithContext(ctx))
				c.Set("logger", s.Log(c).With("staff_id", st.ID))
			}
		}
		return next(c)
	}
}

// langMiddleware picks the language: the remembered choice, else Accept-Language.
func langMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		lang := i18n.Negotiate(c.Request().Header.Get("Accept-Language"))
		if ck, err := c.Cookie(langCookie); err == nil {
			if l, ok := i18n.Parse(ck.Value); ok {
				lang = l
			}
		}
		c.Set("lang", lang)
		return next(c)
	}
}

func langOf(c echo.Context) i18n.Lang {
	if l, ok := c.Get("lang").(i18n.Lang); ok {
		return l
	}
	return i18n.EN
}

// csrf protects every state-changing request: a form field or an
// X-CSRF-Token header must match the cookie (or the browser must vouch that
// the request is same-origin). The WeChat push, probes and assets are outside
// the group it guards (see routes.go); the push has its own signature.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     "tm_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.Config.Secure(),
		CookieSameSite: http.SameSiteStrictMode,
		CookieMaxAge:   int((12 * time.Hour).Seconds()),
		ErrorHandler: func(err error, c echo.Context) error {
			s.Log(c).Warn("csrf check failed", "err", err, "path", c.Request().URL.Path)
			return errCSRF
		},
	})
}

var errCSRF = errors.New("csrf")

// requireRole lets through staff with at least min; others get the login page
// (no session) or 403 (too low a role).
func (s *Server) requireRole(min core.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			st := core.StaffFrom(c.Request().Context())
			if st == nil {
				return s.toLogin(c)
			}
			if !st.Role.AtLeast(min) {
				return core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")
			}
			return next(c)
		}
	}
}

// toLogin sends an unauthenticated request to the login page, remembering
// where it was going; htmx gets a full-page redirect header.
func (s *Server) toLogin(c echo.Context) error {
	next := c.Request().URL.RequestURI()
	if c.Request().Method != http.MethodGet {
		next = ""
		if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Host == c.Request().Host {
			next = ref.RequestURI()
		}
	}
	target := "/login?expired=1"
	if next != "" && next != "/" {
		target += "&next=" + url.QueryEscape(next)
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

func (s *Server) session(c echo.Context) *sessions.Session {
	sess, _ := c.Get("session").(*sessions.Session)
	return sess
}

// setFlash stores a message (an English text, translated when shown) for the next page.
func (s *Server) setFlash(c echo.Context, kind, text string) {
	if sess := s.session(c); sess != nil {
		sess.Values["flash"] = kind + "\x00" + text
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			s.Log(c).Error("save flash", "err", err)
		}
	}
}

func popFlash(c echo.Context) *flash {
	sess, _ := c.Get("session").(*sessions.Session)
	if sess == nil {
		return nil
	}
	v, ok := sess.Values["flash"].(string)
	kind, text, found := strings.Cut(v, "\x00")
	if !ok || !found {
		return nil
	}
	f := flash{Kind: kind, Text: text}
	delete(sess.Values, "flash")
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return nil
	}
	return &f
}
