package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

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

// maxRequestIDLen bounds an X-Request-Id accepted from a proxy.
const maxRequestIDLen = 64

// validRequestID accepts only short IDs of letters, digits, dots, dashes and
// underscores: the ID is stored in the audit and the security log and
// exported to CSV, so anything else (a formula, a megabyte) is replaced.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	// A leading dash or dot could still start a spreadsheet formula or look like a flag.
	return id[0] != '-' && id[0] != '.'
}

// requestIDMiddleware keeps a proxy's safe X-Request-Id and makes one otherwise.
func requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// accessLog logs each request once with its request and staff IDs. Handlers
// get a logger carrying both from s.Log.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
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
		s.Logger.Log(c.Request().Context(), level, "request", append([]any{"request_id", requestID(c)}, attrs...)...)
		return nil
	}
}

// recoverPanic turns a panic into a logged 500.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(error); ok && errors.Is(e, http.ErrAbortHandler) {
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
		// Pages and exports behind the session show staff data: no browser or
		// proxy may keep a copy (the back button after logout shows nothing).
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		if st := s.Sessions.Staff(sess); st != nil && !st.Disabled {
			ctx := core.WithStaff(c.Request().Context(), st)
			c.SetRequest(c.Request().WithContext(ctx))
		}
		return next(c)
	}
}

// errBadInput answers a query or form holding a NUL byte or invalid UTF-8,
// which no field accepts and the database cannot store or compare.
var errBadInput = core.Errorf(core.EINVALID, "The request contains characters that are not allowed (such as a NUL byte). Remove them and try again.")

func badText(v string) bool { return strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) }

// rejectBadInput refuses such requests with a message (422) before any
// handler passes the text to the database.
func (s *Server) rejectBadInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		params := []url.Values{c.QueryParams()}
		if c.Request().Method == http.MethodPost {
			if f, err := c.FormParams(); err == nil {
				params = append(params, f)
			}
		}
		for _, vals := range params {
			for k, vs := range vals {
				if badText(k) {
					return errBadInput
				}
				for _, v := range vs {
					if badText(v) {
						return errBadInput
					}
				}
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
// X-CSRF-Token header must carry the token of this server-side session (or
// the browser must vouch that the request is same-origin). The token is an
// HMAC of the session's ID, so it is bound to that session, changes when the
// session is renewed at login, and a token from any other session is refused.
// Before sign-in (the login form, the language switch) the token is bound to
// a random pre-session cookie instead. The WeChat push, probes and assets are
// outside the group it guards (see routes.go); the push has its own signature.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, err := s.csrfToken(c)
		if err != nil {
			return err
		}
		c.Set("csrf", token)
		c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		switch c.Request().Header.Get(echo.HeaderSecFetchSite) {
		case "same-origin", "none":
			return next(c)
		case "cross-site":
			s.Log(c).Warn("csrf check failed", "err", "cross-site request", "path", c.Request().URL.Path)
			return errCSRF
		}
		sent := c.Request().Header.Get("X-CSRF-Token")
		if sent == "" {
			sent = c.FormValue("_csrf")
		}
		if subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			s.Log(c).Warn("csrf check failed", "err", "missing or wrong token", "path", c.Request().URL.Path)
			return errCSRF
		}
		return next(c)
	}
}

// csrfCookie names the pre-session cookie; __Host- (over https) stops a
// neighbouring subdomain from planting one.
func (s *Server) csrfCookie() string {
	if s.Config.Secure() {
		return "__Host-tm_csrf"
	}
	return "tm_csrf"
}

// csrfToken derives the request's token from its session or pre-session cookie.
func (s *Server) csrfToken(c echo.Context) (string, error) {
	sess, err := s.Sessions.Get(c.Request(), sessionCookie)
	if err != nil {
		return "", err
	}
	binding := ""
	if sess != nil && !sess.IsNew && sess.ID != "" {
		binding = "session:" + sess.ID
	} else {
		v := ""
		if ck, err := c.Cookie(s.csrfCookie()); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
			v = ck.Value
		} else {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			v = base64.RawURLEncoding.EncodeToString(b)
			c.SetCookie(&http.Cookie{Name: s.csrfCookie(), Value: v, Path: "/", HttpOnly: true, Secure: s.Config.Secure(),
				SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
		}
		binding = "pre-session:" + v
	}
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
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
