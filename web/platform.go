package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// handleWeChatPush answers WeChat in plain text: `success` once stored, 4xx for what
// must never be retried, 5xx so WeChat retries what failed on our side.
func (s *Server) handleWeChatPush(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, wechat.MaxPushBodySize+1))
	if err != nil {
		return c.String(http.StatusBadRequest, "unreadable body")
	}
	err = s.Platform.HandlePush(c.Request().Context(), c.QueryParams(), body)
	switch {
	case errors.Is(err, platform.ErrRejected):
		s.Log(c).Warn("wechat push rejected", "err", err)
		return c.String(http.StatusBadRequest, "rejected")
	case err != nil:
		s.Log(c).Error("wechat push not stored", "err", err)
		return c.String(http.StatusInternalServerError, "error")
	}
	return c.String(http.StatusOK, "success")
}

// handlePlatformShow is the platform's status page.
func (s *Server) handlePlatformShow(c echo.Context) error {
	st, err := s.Platform.Status(c.Request().Context())
	if err != nil {
		return err
	}
	settings, err := s.Platform.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	vm := views.PlatformVM{Base: s.base(c, "WeChat platform", "platform"), Status: st, Settings: settings, Now: s.Now()}
	return render(c, http.StatusOK, views.PlatformPage(vm))
}

// platformFlash reports a platform action: a domain error's own message, a
// generic one otherwise (WeChat's and the database's texts stay in the log).
func platformFlash(ok, otherwise string) flashRule {
	return flashRule{OK: ok, Shown: errorsStaffCanActOn, Otherwise: otherwise}
}

// handlePlatformSync reads every authorizer from WeChat now.
func (s *Server) handlePlatformSync(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Minute)
	defer cancel()
	_, err := s.Platform.Sync(ctx)
	return s.flashOrFail(c, err, "/platform", platformFlash("Sync finished.", "The sync failed; see the last sync result."))
}

// authStateKey holds, in the server-side session, the state of the
// authorization the staff member started: "staffID:random".
const authStateKey = "auth_state"

// handlePlatformAuthorize starts onboarding: a page with WeChat's
// authorization link and its QR code.
func (s *Server) handlePlatformAuthorize(c echo.Context) error {
	// The callback must come back to the staff member who started it: a
	// random state, kept in their session, travels in the redirect URI.
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	st := core.StaffFrom(c.Request().Context())
	state := base64.RawURLEncoding.EncodeToString(b)
	sess := s.session(c)
	sess.Values[authStateKey] = strconv.FormatInt(st.ID, 10) + ":" + state
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	links, err := s.Platform.AuthorizationLink(c.Request().Context(), s.Config.PublicURL+"/platform/authorized?state="+url.QueryEscape(state))
	if err != nil {
		return s.flashOrFail(c, err, "/platform", platformFlash("", "WeChat did not give an authorization link; try again."))
	}
	// A page with links, not a redirect: the CSP's form-action 'self' stops a
	// form from being redirected to WeChat, and a merchant on a phone needs
	// the link and its QR code anyway. The code is single use: never cached.
	c.Response().Header().Set("Cache-Control", "no-store")
	base := s.base(c, "Authorize a Mini Program", "platform")
	base.Path = "/platform" // a language switch returns to a page that can be loaded again
	return render(c, http.StatusOK, views.PlatformAuthorizePage(views.PlatformAuthorizeVM{Base: base, Links: links}))
}

// authStateOK checks and consumes the state of the authorization callback.
func (s *Server) authStateOK(c echo.Context) bool {
	sess := s.session(c)
	want, _ := sess.Values[authStateKey].(string)
	if want == "" {
		return false
	}
	delete(sess.Values, authStateKey)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.Log(c).Error("save session", "err", err)
		return false
	}
	st := core.StaffFrom(c.Request().Context())
	got := strconv.FormatInt(st.ID, 10) + ":" + c.QueryParam("state")
	return c.QueryParam("state") != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// handlePlatformAuthorized completes onboarding when WeChat sends the
// staff member back.
func (s *Server) handlePlatformAuthorized(c echo.Context) error {
	if !s.authStateOK(c) {
		s.Log(c).Warn("authorization callback refused: missing or foreign state")
		s.setFlash(c, "error", "The authorization could not be completed: it was not started from this session. Start it again with the authorization link.")
		return c.Redirect(http.StatusSeeOther, "/platform")
	}
	_, err := s.Platform.CompleteAuthorization(c.Request().Context(), c.QueryParam("auth_code"))
	return s.flashOrFail(c, err, "/platform", platformFlash("The account was authorized and added.",
		"The authorization could not be completed; the next sync picks the account up if it was authorized."))
}
