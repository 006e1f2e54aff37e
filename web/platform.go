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

// Platform is the WeChat platform feature: the push receiver and the admin
// pages for status, sync and onboarding.
type Platform struct {
	Service *platform.Service
	// Now replaces the clock for the page's ages.
	Now func() time.Time
}

// Routes registers the push receiver (public: it authenticates by signature)
// and the admin pages.
func (p *Platform) Routes(s *Server, r Routers) {
	h := &platformHandlers{p: p, s: s}
	r.Public.POST("/wechat/events", h.push)
	r.Admin.GET("/platform", h.page)
	r.Admin.POST("/platform/sync", h.sync)
	r.Admin.POST("/platform/authorize", h.authorize)
	r.Admin.GET("/platform/authorized", h.authorized)
}

type platformHandlers struct {
	p *Platform
	s *Server
}

// push answers WeChat in plain text: `success` once stored, 4xx for what
// must never be retried, 5xx so WeChat retries what failed on our side.
func (h *platformHandlers) push(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, wechat.MaxPushBodySize+1))
	if err != nil {
		return c.String(http.StatusBadRequest, "unreadable body")
	}
	err = h.p.Service.HandlePush(c.Request().Context(), c.QueryParams(), body)
	switch {
	case errors.Is(err, platform.ErrRejected):
		h.s.Log(c).Warn("wechat push rejected", "err", err)
		return c.String(http.StatusBadRequest, "rejected")
	case err != nil:
		h.s.Log(c).Error("wechat push not stored", "err", err)
		return c.String(http.StatusInternalServerError, "error")
	}
	return c.String(http.StatusOK, "success")
}

func (h *platformHandlers) now() time.Time {
	if h.p.Now != nil {
		return h.p.Now()
	}
	return time.Now()
}

func (h *platformHandlers) page(c echo.Context) error {
	st, err := h.p.Service.Status(c.Request().Context())
	if err != nil {
		return err
	}
	vm := views.PlatformVM{Base: h.s.base(c, "WeChat platform", "platform"), Status: st, Now: h.now()}
	return render(c, http.StatusOK, views.PlatformPage(vm))
}

// flashErr shows a domain error's own message and a generic one otherwise
// (WeChat's and the database's texts stay in the log).
func (h *platformHandlers) flashErr(c echo.Context, generic string, err error) {
	if code := core.ErrorCode(err); code != core.EINTERNAL {
		h.s.setFlash(c, "error", core.ErrorMessage(err))
		return
	}
	h.s.Log(c).Error(generic, "err", err)
	h.s.setFlash(c, "error", generic)
}

func (h *platformHandlers) back(c echo.Context) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", "/platform")
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/platform")
}

func (h *platformHandlers) sync(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Minute)
	defer cancel()
	if _, err := h.p.Service.Sync(ctx); err != nil {
		h.flashErr(c, "The sync failed; see the last sync result.", err)
	} else {
		h.s.setFlash(c, "ok", "Sync finished.")
	}
	return h.back(c)
}

// authStateKey holds, in the server-side session, the state of the
// authorization the staff member started: "staffID:random".
const authStateKey = "auth_state"

func (h *platformHandlers) authorize(c echo.Context) error {
	// The callback must come back to the staff member who started it: a
	// random state, kept in their session, travels in the redirect URI.
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	st := core.StaffFrom(c.Request().Context())
	state := base64.RawURLEncoding.EncodeToString(b)
	sess := h.s.session(c)
	sess.Values[authStateKey] = strconv.FormatInt(st.ID, 10) + ":" + state
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	links, err := h.p.Service.AuthorizationLink(c.Request().Context(), h.s.Config.PublicURL+"/platform/authorized?state="+url.QueryEscape(state))
	if err != nil {
		h.flashErr(c, "WeChat did not give an authorization link; try again.", err)
		return h.back(c)
	}
	// A page with links, not a redirect: the CSP's form-action 'self' stops a
	// form from being redirected to WeChat, and a merchant on a phone needs
	// the link and its QR code anyway. The code is single use: never cached.
	c.Response().Header().Set("Cache-Control", "no-store")
	base := h.s.base(c, "Authorize a Mini Program", "platform")
	base.Path = "/platform" // a language switch returns to a page that can be loaded again
	return render(c, http.StatusOK, views.PlatformAuthorizePage(views.PlatformAuthorizeVM{Base: base, Links: links}))
}

// stateOK checks and consumes the state of the authorization callback.
func (h *platformHandlers) stateOK(c echo.Context) bool {
	sess := h.s.session(c)
	want, _ := sess.Values[authStateKey].(string)
	if want == "" {
		return false
	}
	delete(sess.Values, authStateKey)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		h.s.Log(c).Error("save session", "err", err)
		return false
	}
	st := core.StaffFrom(c.Request().Context())
	got := strconv.FormatInt(st.ID, 10) + ":" + c.QueryParam("state")
	return c.QueryParam("state") != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (h *platformHandlers) authorized(c echo.Context) error {
	if !h.stateOK(c) {
		h.s.Log(c).Warn("authorization callback refused: missing or foreign state")
		h.s.setFlash(c, "error", "The authorization could not be completed: it was not started from this session. Start it again with the authorization link.")
		return c.Redirect(http.StatusSeeOther, "/platform")
	}
	if _, err := h.p.Service.CompleteAuthorization(c.Request().Context(), c.QueryParam("auth_code")); err != nil {
		h.flashErr(c, "The authorization could not be completed; the next sync picks the account up if it was authorized.", err)
	} else {
		h.s.setFlash(c, "ok", "The account was authorized and added.")
	}
	return c.Redirect(http.StatusSeeOther, "/platform")
}
