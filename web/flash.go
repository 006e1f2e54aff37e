package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// flash is a message carried to the next page in the session, stored as
// "kind\x00text" so the session codec needs no registered types.
type flash struct{ Kind, Text string }

// flashRule says how a form action that answers on the next page reports
// its result (see flashOrFail).
type flashRule struct {
	// OK is flashed on success; empty flashes nothing.
	OK string
	// Shown are the error codes staff can act on: their own message is
	// flashed.
	Shown []string
	// Otherwise, when set, is flashed for any other error, which is logged
	// (WeChat's and the database's texts stay in the log); when empty, any
	// other error goes to the one error handler.
	Otherwise string
}

// errorsStaffCanActOn are the codes of every error but an internal one.
var errorsStaffCanActOn = []string{core.EINVALID, core.ENOTFOUND, core.ECONFLICT, core.EUNAUTHORIZED, core.EFORBIDDEN, core.ETOOMANY}

// flashOrFail finishes a form action that answers with a message on the
// next page: it flashes the result by the rule and redirects to back (htmx
// is told to load back as a whole page), or returns the error for the error
// handler when the rule does not flash it.
func (s *Server) flashOrFail(c echo.Context, err error, back string, r flashRule) error {
	switch {
	case err == nil:
		if r.OK != "" {
			s.setFlash(c, "ok", r.OK)
		}
	case slices.Contains(r.Shown, core.ErrorCode(err)):
		s.setFlash(c, "error", core.ErrorMessage(err))
	case r.Otherwise != "":
		s.Log(c).Error(r.Otherwise, "err", err)
		s.setFlash(c, "error", r.Otherwise)
	default:
		return err
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", back)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, back)
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
