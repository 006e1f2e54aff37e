package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/labstack/echo/v4"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/views"
)

// statusClientClosed is what the access log records for a request whose
// client went away before its answer (nginx's 499; never sent).
const statusClientClosed = 499

// statusOf maps a core error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case core.EINVALID:
		return http.StatusUnprocessableEntity
	case core.ENOTFOUND:
		return http.StatusNotFound
	case core.ECONFLICT:
		return http.StatusConflict
	case core.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case core.EFORBIDDEN:
		return http.StatusForbidden
	case core.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// handleError is the one error path: it picks a status, logs internal errors
// with the request ID, and renders a full page or, for htmx, a partial.
// Internal error text never reaches the user.
func (s *Server) handleError(err error, c echo.Context) {
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away (a tab closed, a page left before it came,
		// an export stopped): nothing failed here, and nobody is left to
		// answer. The access log shows 499, as proxies write it.
		if !c.Response().Committed {
			c.Response().Status = statusClientClosed
		}
		s.Log(c).Info("client went away", "path", c.Request().URL.Path, "err", err)
		return
	}
	if c.Response().Committed {
		s.Log(c).Error("error after response started", "err", err)
		return
	}
	status, heading, msg := http.StatusInternalServerError, "Something went wrong", "An internal error occurred."
	var he *echo.HTTPError
	var ce *core.Error
	switch {
	case databaseAway(err):
		// Not a bug: the database is restarting or out of reach. Say so,
		// and that the console reconnects by itself.
		status, heading, msg = http.StatusServiceUnavailable, "Database unavailable", "The console cannot reach its database right now, so this request was not carried out. It reconnects by itself: try again in a moment."
		c.Response().Header().Set("Retry-After", "5")
	case statementTimedOut(err):
		// A query ran past the statement timeout (a long custom range on
		// the revenue dashboard, or one narrowed to a principal of
		// thousands of accounts): say so rather than "internal error",
		// and what to ask for instead.
		status, heading, msg = http.StatusServiceUnavailable, "Too slow to answer", "This took longer than the console allows for one query, so nothing is shown. The dashboard's fixed periods answer at once; for a custom range, choose a shorter one."
		if strings.HasPrefix(c.Request().URL.Path, "/revenue") && revenueFilter(c).Principal != "" {
			// The fixed periods of a broad principal are as slow.
			msg = "This took longer than the console allows for one query, so nothing is shown. A principal that matches thousands of Mini Programs reads every one of their days: type more of its name, or choose a shorter range."
		}
	case errors.Is(err, errCSRF):
		status, heading, msg = http.StatusForbidden, "Invalid request", "The form has expired or was not sent from this console. Reload the page and try again."
	case errors.As(err, &ce):
		status = statusOf(ce.Code)
		heading, msg = headingFor(status), ""
	case errors.As(err, &he):
		status = he.Code
		heading = headingFor(status)
		switch status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			status, msg = http.StatusNotFound, "The page you asked for does not exist."
		case http.StatusRequestEntityTooLarge:
			msg = "The request is too large."
		case http.StatusForbidden:
			msg = "Your role does not allow this."
		case http.StatusTooManyRequests:
			msg = "Too many requests"
		default:
			if status < 500 {
				msg = "Invalid request"
			} else {
				msg = "An internal error occurred."
			}
		}
	}
	if status >= 500 {
		s.Log(c).Error("internal error", "err", err, "path", c.Request().URL.Path)
	} else {
		s.Log(c).Info("request refused", "status", status, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	b := s.base(c, heading, "")
	vm := views.ErrorVM{Base: b, Status: status, Heading: b.T(heading), Message: b.T(msg)}
	if ce != nil {
		vm.Message = b.Err(ce)
	}
	if isHTMX(c) {
		// app.js swaps error partials into the target when this header is set.
		c.Response().Header().Set("HX-Error", "1")
		_ = render(c, status, views.ErrorPartial(vm))
		return
	}
	_ = render(c, status, views.ErrorPage(vm))
}

func headingFor(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "Page not found"
	case status == http.StatusForbidden:
		return "Not allowed"
	case status == http.StatusTooManyRequests:
		return "Please wait"
	case status >= 500:
		return "Something went wrong"
	}
	return "Invalid request"
}

// databaseAway reports an error that means the database could not be
// reached (refused, cut, restarting, shutting down), as opposed to a query
// it refused.
func databaseAway(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	var te *wechat.TransportError
	switch {
	case errors.As(err, &te):
		return false // WeChat, not the database
	case errors.As(err, &ce):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// statementTimedOut reports whether Postgres cancelled a query at the
// statement timeout.
func statementTimedOut(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014"
}

func asCore(err error, target **core.Error) bool { return errors.As(err, target) }
