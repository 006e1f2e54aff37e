// Package core holds Trafficmaster's domain: staff, roles, errors and the
// services the web handlers and background jobs share. It knows nothing of
// echo, templ or pgx.
package core

import (
	"errors"
	"fmt"
)

// Error codes carried by domain errors; the web layer maps each to a status.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOMANY      = "too_many_requests"
	EINTERNAL     = "internal"
)

// Error is a domain error whose message is safe to show to the user.
type Error struct {
	Code    string
	Message string
	// Field names the form field the message belongs beside, if any.
	Field string
	// Format and Args let the web layer translate the message.
	Format string
	Args   []any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf builds a user-facing domain error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// FieldError builds an invalid-input error attached to one form field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field, Format: format, Args: args}
}

// ErrorCode returns the code of a domain error, or EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message; internal errors never leak their text.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// Translate renders a domain error's message through tr (a translation
// function taking the English format); internal errors get a generic message.
func Translate(err error, tr func(format string, args ...any) string) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Format != "" {
			return tr(e.Format, e.Args...)
		}
		return tr(e.Message)
	}
	return tr("An internal error occurred.")
}
