package wechat

import (
	"bytes"
	"errors"
	"net/url"
	"testing"
)

const fuzzKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE"

func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{
		`{"ret":0,"err_msg":""}`, `{"ret":2021,"err_msg":"already"}`, `{"errcode":42001,"errmsg":"expired"}`,
		`{"errcode":0}`, `{}`, ``, `<html>502</html>`, `null`, `[]`, `{"ret":"x"}`, `{"ret":1e3}`,
		`{"ret":0,"errcode":40001,"errmsg":"x"}`, `  {"ret":-202} `,
		`{"base_resp":{"ret":-202,"err_msg":"x"}}`, `{"base_resp":{"errcode":"1735"}}`, `{"base_resp":null,"ret":"0"}`,
	} {
		f.Add(200, []byte(s), true)
		f.Add(502, []byte(s), false)
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte, require bool) {
		err := decodeReply(status, raw, require)
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("accepted status %d", status)
			}
			return
		}
		var we *Error
		var he *HTTPStatusError
		var de *DecodeError
		switch {
		case errors.As(err, &we):
			if we.Code == 0 || (we.Shape != ShapeRet && we.Shape != ShapeErrcode && we.Shape != ShapeBaseResp) {
				t.Fatalf("bad Error %+v", we)
			}
			if code, ok := CodeOf(err); !ok || code != we.Code {
				t.Fatal("CodeOf disagrees")
			}
		case errors.As(err, &he):
		case errors.As(err, &de):
		default:
			t.Fatalf("untyped error %T", err)
		}
		if len(err.Error()) == 0 {
			t.Fatal("empty message")
		}
	})
}

func FuzzOpen(f *testing.F) {
	c, err := NewCrypter("tok", fuzzKey, "", "wxcomp")
	if err != nil {
		f.Fatal(err)
	}
	q, body, err := c.Seal([]byte("<xml><AppId>wxcomp</AppId><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>t</ComponentVerifyTicket></xml>"), "1", "n")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(q.Encode(), body, []byte("<xml/>"))
	f.Add("msg_signature=x&timestamp=1&nonce=2", []byte("<xml><Encrypt>AAAA</Encrypt></xml>"), []byte(""))
	f.Add("", []byte(""), []byte("\x00\x01"))
	f.Add("", []byte("<xml><Encrypt><![CDATA[====]]></Encrypt></xml>"), bytes.Repeat([]byte{32}, 64))
	f.Fuzz(func(t *testing.T, query string, body []byte, msg []byte) {
		qv, _ := url.ParseQuery(query)
		ev, err := c.Open(qv, body)
		if err == nil && ev.InfoType == "" {
			t.Fatal("accepted event without InfoType")
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrAppIDMismatch) {
			t.Fatalf("untyped error: %v", err)
		}
		_, encrypt, err := ParseEnvelope(body)
		if err == nil {
			_, _ = c.Decrypt(encrypt)
		}
		_, _ = c.Decrypt(string(body))
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`<xml><AppId>wx</AppId><CreateTime>1</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>a</AuthorizerAppid></xml>`,
		`<xml><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket>t</ComponentVerifyTicket></xml>`,
		`<xml>`, ``, `<a><b></a>`, `<xml><CreateTime>99999999999999999999</CreateTime><InfoType>x</InfoType></xml>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if ev.InfoType == "" || !bytes.Equal(ev.Raw, data) {
			t.Fatal("invalid event accepted")
		}
	})
}
