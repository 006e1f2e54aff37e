package traffic

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	big := make([]byte, MaxRaw+100)
	cases := []struct {
		name    string
		err     error
		raw     []byte
		outcome Outcome
		code    *int
	}{
		{"success", nil, []byte(`{"ret":0}`), OutcomeSuccess, ptr(0)},
		{"already", &wechat.Error{Code: 2021}, []byte(`{"ret":2021}`), OutcomeAlreadyDone, ptr(2021)},
		{"merchant", &wechat.Error{Code: 1735, Shape: "errcode"}, nil, OutcomeNeedsMerchant, ptr(1735)},
		{"unknown code", &wechat.Error{Code: 99999}, nil, OutcomeFailed, ptr(99999)},
		{"5xx", &wechat.HTTPStatusError{Status: 502, Raw: big}, nil, OutcomeFailed, nil},
		{"garbage", &wechat.DecodeError{HTTPStatus: 200, Raw: []byte("<html>"), Err: errors.New("x")}, nil, OutcomeFailed, nil},
		{"timeout", &wechat.TransportError{Op: "POST", Err: errors.New("deadline"), Timeout: true}, nil, OutcomeUnknown, nil},
		{"dropped", &wechat.TransportError{Op: "POST", Err: errors.New("EOF")}, nil, OutcomeUnknown, nil},
		{"refused token", &tokenError{&wechat.Error{Code: 61023}}, nil, OutcomeToken, ptr(61023)},
		{"no token, nothing sent", &tokenError{errors.New("connect: connection refused")}, nil, OutcomeNotSent, nil},
		{"refused", &wechat.TransportError{Op: "POST", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, nil, OutcomeNotSent, nil},
		{"no slot", &notSentError{errors.New("wait for a rate slot: context canceled")}, nil, OutcomeNotSent, nil},
	}
	for _, tc := range cases {
		a := &Attempt{Action: ActionOpen}
		classify(a, tc.err, tc.raw, 0)
		require.Equal(t, tc.outcome, a.Outcome, tc.name)
		require.Equal(t, tc.code, a.Code, tc.name)
		require.LessOrEqual(t, len(a.Raw), MaxRaw, tc.name)
	}
}

func TestValidAppID(t *testing.T) {
	t.Parallel()
	require.True(t, ValidAppID("wx00000de000000001"))
	for _, s := range []string{"", "wx", "wx123", "gh_0123456789abcdef", "wx0123456789abcdef0", "wx0123456789abcde!", "../etc/passwd"} {
		require.False(t, ValidAppID(s), s)
	}
}

func ptr(n int) *int { return &n }
