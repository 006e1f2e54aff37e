package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/views"
)

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// handleLoginForm shows the sign-in form (or sends the signed-in onwards).
func (s *Server) handleLoginForm(c echo.Context) error {
	if core.StaffFrom(c.Request().Context()) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	b := s.base(c, "Sign in", "")
	vm := views.LoginVM{Base: b, Next: safeNext(c.QueryParam("next"))}
	switch {
	case c.QueryParam("expired") != "":
		b.Flash = &views.Flash{Kind: "info", Text: b.T("Your session has ended. Sign in again.")}
	case c.QueryParam("out") != "":
		b.Flash = &views.Flash{Kind: "ok", Text: b.T("You have signed out.")}
	case c.QueryParam("changed") != "":
		b.Flash = &views.Flash{Kind: "ok", Text: b.T("Your password was changed. Sign in with the new one.")}
	}
	vm.Base = b
	return render(c, http.StatusOK, views.LoginPage(vm))
}

// handleLogin signs in and starts a fresh session.
func (s *Server) handleLogin(c echo.Context) error {
	username, password := c.FormValue("username"), c.FormValue("password")
	st, err := s.Auth.Login(c.Request().Context(), username, password, Meta(c))
	if err != nil {
		code := core.ErrorCode(err)
		if code == core.EINTERNAL {
			return err
		}
		b := s.base(c, "Sign in", "")
		return render(c, statusOf(code), views.LoginPage(views.LoginVM{Base: b, Username: username, Next: safeNext(c.FormValue("next")), Error: b.Err(err)}))
	}
	sess := s.session(c)
	// A fresh session ID at login defeats session fixation.
	if err := s.Sessions.Renew(c.Request().Context(), sess); err != nil {
		return err
	}
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values[postgres.StaffIDKey] = st.ID
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	s.Log(c).Info("signed in", "staff_id", st.ID)
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// handleLogout ends the session.
func (s *Server) handleLogout(c echo.Context) error {
	sess := s.session(c)
	if st := core.StaffFrom(c.Request().Context()); st != nil {
		if err := s.Auth.RecordLogout(c.Request().Context(), st, Meta(c)); err != nil {
			return err
		}
	}
	if sess != nil {
		sess.Options.MaxAge = -1
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/login?out=1")
}

// handleLangSet remembers the chosen language for a year.
func (s *Server) handleLangSet(c echo.Context) error {
	l, ok := i18n.Parse(c.FormValue("lang"))
	if !ok {
		return core.FieldError("lang", "Choose a language.")
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: s.Config.Secure(), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}
