package wechat

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// maxRawInError bounds how much of a reply is retained in errors, which may be logged or stored.
const maxRawInError = 64 << 10

// Shapes a result code arrives in; Error.Shape carries one of them.
const (
	ShapeRet      = "ret"       // {"ret":…, "err_msg":…}
	ShapeErrcode  = "errcode"   // {"errcode":…, "errmsg":…}: token and permission failures
	ShapeBaseResp = "base_resp" // {"base_resp":{"ret":…, "err_msg":…}}: some ad data and settlement replies
)

// replyCode is a result code WeChat may write as a number or as a numeric
// string; a pointer to it tells an absent code from zero.
type replyCode int

func (c *replyCode) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		unq, err := strconv.Unquote(s)
		if err != nil {
			return err
		}
		s = unq
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("result code is not an integer")
	}
	*c = replyCode(n)
	return nil
}

// baseResp is the nested envelope; WeChat has been seen to spell its fields either way.
type baseResp struct {
	Ret     *replyCode `json:"ret"`
	RetMsg  string     `json:"err_msg"`
	ErrCode *replyCode `json:"errcode"`
	ErrMsg  string     `json:"errmsg"`
}

// replyEnvelope captures the three result shapes WeChat uses; pointers tell absent from zero.
type replyEnvelope struct {
	Ret      *replyCode `json:"ret"`
	RetMsg   string     `json:"err_msg"`
	ErrCode  *replyCode `json:"errcode"`
	ErrMsg   string     `json:"errmsg"`
	BaseResp *baseResp  `json:"base_resp"`
}

func capRaw(raw []byte) []byte {
	if len(raw) > maxRawInError {
		raw = raw[:maxRawInError]
	}
	return bytes.Clone(raw)
}

// decodeReply turns an HTTP reply into nil or a typed error. requireCode is set
// for endpoints whose success replies always carry a code, so a body without
// one is treated as undecodable rather than as success; without it an absent
// code means 0, as WeChat's get_share_ratio has been seen to answer.
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
	fail := func(code replyCode, msg, shape string) error {
		return &Error{Code: int(code), Message: msg, Shape: shape, HTTPStatus: status, Raw: capRaw(raw)}
	}
	switch {
	case env.Ret != nil && *env.Ret != 0:
		return fail(*env.Ret, env.RetMsg, ShapeRet)
	case env.ErrCode != nil && *env.ErrCode != 0:
		return fail(*env.ErrCode, env.ErrMsg, ShapeErrcode)
	case env.BaseResp != nil && env.BaseResp.Ret != nil && *env.BaseResp.Ret != 0:
		return fail(*env.BaseResp.Ret, env.BaseResp.RetMsg, ShapeBaseResp)
	case env.BaseResp != nil && env.BaseResp.ErrCode != nil && *env.BaseResp.ErrCode != 0:
		return fail(*env.BaseResp.ErrCode, env.BaseResp.ErrMsg, ShapeBaseResp)
	case requireCode && env.Ret == nil && env.ErrCode == nil && (env.BaseResp == nil || (env.BaseResp.Ret == nil && env.BaseResp.ErrCode == nil)):
		return &DecodeError{HTTPStatus: status, Raw: capRaw(raw), Err: errors.New("reply has neither ret nor errcode")}
	}
	return nil
}
