// Package wechat is a typed client for the WeChat third-party platform
// (component) API and the traffic-master agency operations.
package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Error is a non-zero result code reported by WeChat in either reply shape.
type Error struct {
	Code       int
	Message    string
	Shape      string // "ret" or "errcode"
	HTTPStatus int
	Raw        []byte
}

// Error includes the code so logs can be matched against the catalog.
func (e *Error) Error() string {
	return fmt.Sprintf("wechat: %s %d: %s", e.Shape, e.Code, e.Message)
}

// HTTPStatusError reports a non-2xx reply, usually a gateway or proxy page.
type HTTPStatusError struct {
	Status int
	Raw    []byte
}

// Error reports the status only; the body is often a large HTML page.
func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("wechat: unexpected HTTP status %d", e.Status)
}

// DecodeError reports a reply that could not be understood, such as HTML or an empty body.
type DecodeError struct {
	HTTPStatus int
	Raw        []byte
	Err        error
}

// Error describes why decoding failed.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("wechat: cannot decode reply (HTTP %d, %d bytes): %v", e.HTTPStatus, len(e.Raw), e.Err)
}

// Unwrap exposes the underlying decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// TransportError reports a failure to complete the HTTP exchange. When Timeout
// is true the request may still have reached WeChat, so the outcome is unknown.
type TransportError struct {
	Op      string
	Err     error
	Timeout bool
}

// Error never includes the request URL, which carries access tokens.
func (e *TransportError) Error() string {
	s := fmt.Sprintf("wechat: %s: %v", e.Op, e.Err)
	if e.Timeout {
		s += " (timeout: outcome unknown)"
	}
	return s
}

// Unwrap exposes the cause so errors.Is(err, context.DeadlineExceeded) works.
func (e *TransportError) Unwrap() error { return e.Err }

// CodeOf returns the WeChat result code carried by err, if any.
func CodeOf(err error) (int, bool) {
	var we *Error
	if errors.As(err, &we) {
		return we.Code, true
	}
	return 0, false
}

// IsTokenError reports whether err means the access token must be refreshed.
func IsTokenError(err error) bool {
	code, ok := CodeOf(err)
	if !ok {
		return false
	}
	switch code {
	case 40001, 40014, 42001:
		return true
	}
	return false
}

// newTransportError strips the URL from url.Error because its query holds tokens.
func newTransportError(op string, err error) *TransportError {
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	timeout := errors.Is(err, context.DeadlineExceeded)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	if cause != nil && strings.Contains(cause.Error(), "access_token=") {
		cause = errors.New(redactTokens(cause.Error()))
	}
	return &TransportError{Op: op, Err: cause, Timeout: timeout}
}

// redactTokens is a last line of defence for causes that embed a URL themselves.
func redactTokens(s string) string {
	for _, key := range []string{"component_access_token=", "access_token="} {
		out := ""
		for {
			i := strings.Index(s, key)
			if i < 0 {
				out += s
				break
			}
			out += s[:i+len(key)] + "REDACTED"
			s = s[i+len(key):]
			j := strings.IndexAny(s, "&\" ")
			if j < 0 {
				s = ""
			} else {
				s = s[j:]
			}
		}
		s = out
	}
	return s
}
