package wechat

import (
	"bytes"
	"encoding/json"
	"errors"
)

// maxRawInError bounds how much of a reply is retained in errors, which may be logged or stored.
const maxRawInError = 64 << 10

// replyEnvelope captures both result shapes WeChat uses; pointers tell absent from zero.
type replyEnvelope struct {
	Ret     *int   `json:"ret"`
	RetMsg  string `json:"err_msg"`
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func capRaw(raw []byte) []byte {
	if len(raw) > maxRawInError {
		raw = raw[:maxRawInError]
	}
	return bytes.Clone(raw)
}

// decodeReply turns an HTTP reply into nil or a typed error. requireCode is set
// for endpoints whose success replies always carry a code, so a body without
// one is treated as undecodable rather than as success.
func decodeReply(status int, raw []byte, requireCode bool) error {
	if status < 200 || status > 299 {
		return &HTTPStatusError{Status: status, Raw: capRaw(raw)}
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return &DecodeError{HTTPStatus: status, Raw: capRaw(raw), Err: errors.New("empty body")}
	}
	if trimmed[0] != '{' {
		return &DecodeError{HTTPStatus: status, Raw: capRaw(raw), Err: errors.New("body is not a JSON object")}
	}
	var env replyEnvelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return &DecodeError{HTTPStatus: status, Raw: capRaw(raw), Err: err}
	}
	switch {
	case env.Ret != nil && *env.Ret != 0:
		return &Error{Code: *env.Ret, Message: env.RetMsg, Shape: "ret", HTTPStatus: status, Raw: capRaw(raw)}
	case env.ErrCode != nil && *env.ErrCode != 0:
		return &Error{Code: *env.ErrCode, Message: env.ErrMsg, Shape: "errcode", HTTPStatus: status, Raw: capRaw(raw)}
	case requireCode && env.Ret == nil && env.ErrCode == nil:
		return &DecodeError{HTTPStatus: status, Raw: capRaw(raw), Err: errors.New("reply has neither ret nor errcode")}
	}
	return nil
}
